using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using Diffuse.Tests.IO;
using Diffuse.Tests.Pipelines;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Diffuse.Tests.Training;

/// <summary>Continuous-time SDE models trained by denoising score matching (Song et al. 2021, arXiv:2011.13456, Eq. 7).</summary>
public class ScoreMatchingTests(ITestOutputHelper output)
{
    static Func<Tensor, Tensor, Tensor> Zero => (input, _) => zeros_like(input);

    [Theory]
    [InlineData(SdeType.Vp)]
    [InlineData(SdeType.SubVp)]
    [InlineData(SdeType.Ve)]
    public void TheOptimalDenoiserOfGaussianDataScoresTheConditionalVarianceOfTheNoise(SdeType type)
    {
        // Data N(0, s^2 I): E||E[z | x_t] - z||^2 per dimension is Var(z | x_t) = m^2 s^2 / (m^2 s^2 + sigma^2).
        var spec = new SdeSpec { Type = type };
        var objective = new ScoreMatchingObjective(spec);
        const double s = 0.7, t = 0.3;
        const int n = 20_000;
        using var g = new Generator(11);
        using var x0 = randn([n, 2], ScalarType.Float64, generator: g) * s;
        using var noise = randn([n, 2], ScalarType.Float64, generator: g);
        using var times = full(n, t, ScalarType.Float64);
        using var loss = objective.PerSampleLoss(SdeSpecTests.GaussianDenoiser(spec, objective.Sde, s), x0, times, noise);
        double m = objective.Sde.MeanScale(t), sigma = objective.Sde.MarginalStd(t);
        double expected = m * m * s * s / (m * m * s * s + sigma * sigma);
        double mean = loss.mean().item<double>(), error = loss.std().item<double>() / Math.Sqrt(n);
        Assert.True(Math.Abs(mean - expected) < 4 * error, $"{type}: loss {mean} ± {error}, expected {expected}");
        // A network that predicts no noise scores E|z|^2 = 1, exactly the mean of z^2 over the dimensions.
        using var zero = objective.PerSampleLoss(Zero, x0, times, noise);
        Assert.True(allclose(zero, noise.square().mean([1])));
    }

    [Fact]
    public void TheLossFeedsTheNetworkCInXtAndTheTimeLabelAndRegressesTheNoise()
    {
        var spec = new SdeSpec { Type = SdeType.Ve, SigmaMax = 10 };
        var objective = new ScoreMatchingObjective(spec);
        using var x0 = tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 1, 1, 2);
        using var noise = tensor(new float[] { 0.5f, -1, 2, 0 }).reshape(2, 1, 1, 2);
        using var t = tensor(new[] { 0.25, 1.0 });
        Tensor? seen = null, labels = null;
        using var loss = objective.PerSampleLoss((input, l) =>
        {
            seen = input.clone().DetachFromDisposeScope();
            labels = l.clone().DetachFromDisposeScope();
            return ones_like(input);
        }, x0, t, noise);
        for (int i = 0; i < 2; i++)
        {
            double time = i == 0 ? 0.25 : 1.0, sigma = objective.Sde.MarginalStd(time), cIn = 1 / Math.Sqrt(1 + sigma * sigma);
            using var xt = x0[i] + noise[i] * sigma;
            Assert.True(allclose(seen![i], xt * cIn, rtol: 1e-5));
            Assert.Equal(999 * time, labels![i].item<float>(), 1e-3);
            Assert.Equal((noise[i] - 1).square().mean().item<float>(), loss[i].item<float>(), 1e-6);
        }
    }

    [Fact]
    public void TimesComeFirstThenTheNoiseAllFromTheGenerator()
    {
        var objective = new ScoreMatchingObjective(new SdeSpec { Eps = 0.05 });
        using var x0 = ones(64, 2);
        using var a = new Generator(3);
        using var drawn = objective.PerSampleLoss(Zero, x0, a);
        using var b = new Generator(3);
        using var t = objective.SampleTimes(64, b);
        using var noise = Noise.RandnLike(x0, b);
        Assert.True(allclose(drawn, objective.PerSampleLoss(Zero, x0, t, noise)));
        Assert.True(t.min().item<double>() >= 0.05 && t.max().item<double>() <= 1);
        Assert.True(t.std().item<double>() > 0.2); // spread over (eps, 1), not one value
    }

    [Fact]
    public void TheLikelihoodAndMinSnrWeightingsWeighTheNoiseErrorByTheirClosedForms()
    {
        var spec = new SdeSpec();
        var likelihood = new ScoreMatchingObjective(spec, LossWeighting.Likelihood);
        var minSnr = new ScoreMatchingObjective(spec, LossWeighting.MinSnr, 5.0);
        var sde = likelihood.Sde;
        using var x0 = zeros(3, 2);
        using var noise = ones(3, 2);
        var times = new[] { 0.01, 0.3, 0.9 };
        using var t = tensor(times);
        using var l = likelihood.PerSampleLoss(Zero, x0, t, noise);
        using var w = minSnr.PerSampleLoss(Zero, x0, t, noise);
        for (int i = 0; i < 3; i++)
        {
            double g2 = sde.Diffusion(times[i]) * sde.Diffusion(times[i]), sigma = sde.MarginalStd(times[i]), m = sde.MeanScale(times[i]);
            Assert.Equal(g2 / (sigma * sigma), l[i].item<float>(), 1e-3 * g2 / (sigma * sigma));
            Assert.Equal(Math.Min(m * m / (sigma * sigma), 5) / (m * m / (sigma * sigma)), w[i].item<float>(), 1e-5);
        }
    }

    [Fact]
    public void TheObjectiveOfAnSdeRunIsScoreMatchingAndRefusesWhatDoesNotApply()
    {
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig()), PredictionType.Epsilon);
        var objective = new TrainingObjective(diffusion, new TrainingSpec(), sde: new SdeSpec { Type = SdeType.Ve });
        Assert.NotNull(objective.ScoreMatching);
        Assert.Null(objective.TimestepSampler);
        using var x0 = ones(8, 2);
        using (var a = new Generator(1))
        using (var b = new Generator(1))
        using (var viaTrainer = objective.Loss(Zero, x0, a))
        using (var direct = objective.ScoreMatching!.Loss(Zero, x0, b))
            Assert.Equal(direct.item<float>(), viaTrainer.item<float>());
        Assert.Contains("loss-aware", Assert.Throws<DiffuseException>(() =>
            new TrainingObjective(diffusion, new TrainingSpec { TimestepSampler = TimestepSampling.LossAware }, sde: new SdeSpec())).Message);
        Assert.Contains("hybrid", Assert.Throws<DiffuseException>(() =>
            new TrainingObjective(diffusion, new TrainingSpec { Loss = LossWeighting.Hybrid }, sde: new SdeSpec())).Message);
        Assert.Contains("likelihood", Assert.Throws<DiffuseException>(() =>
            new TrainingObjective(diffusion, new TrainingSpec { Loss = LossWeighting.Likelihood })).Message);
    }

    static ModelConfig PointTemplate(SdeType type, long seed = 0) => new()
    {
        Model = new MlpConfig { HiddenDim = 128, Blocks = 2 },
        Training = new TrainingSpec { Steps = 500, BatchSize = 256, LearningRate = 3e-3, WarmupSteps = 20, EmaDecay = 0.98, Seed = seed },
        Sde = new SdeSpec { Type = type },
    };

    [Theory]
    [InlineData(SdeType.Vp)]
    [InlineData(SdeType.Ve)]
    public void ATrainedPointModelsPredictorCorrectorSamplesBeatTheFittedGaussianAndThePrior(SdeType type)
    {
        using var folder = new TempFolder();
        string dir = Path.Combine(folder.Path, "model");
        var outcome = PointTraining.TrainAndSave("moons", dir, PointTemplate(type), force: false);
        Assert.True(double.IsFinite(outcome.FinalLoss) && outcome.FinalLoss < 1);
        using var model = PointModel.Load(dir);
        var spec = model.Config.Sde!;
        Assert.Equal(type, spec.Type);

        const int n = 1000;
        using var g = new Generator(7);
        using var mean = tensor(model.Config.Data.Mean);
        using var data = Toy2D.Sample("moons", n, g);
        using var reference = Toy2D.Sample("moons", 20_000, g);
        using var gaussian = SlicedWasserstein.FittedGaussianSample(reference, n, g);
        using var prior = spec.CreateSde().SamplePrior([n, 2], g) * model.Config.Data.Scale + mean;
        double Swd(Tensor x) => SlicedWasserstein.Distance(x, data, 256, new Generator(1));
        double Sampled(int correctorSteps)
        {
            using var normalised = SdeSampling.PredictorCorrector(spec, model.Network.forward, [n, 2], 100, g,
                new Diffuse.ScoreSampling.PredictorCorrectorOptions { CorrectorSteps = correctorSteps });
            using var samples = normalised * model.Config.Data.Scale + mean;
            return Swd(samples);
        }
        double predictorOnly = Sampled(0), withCorrector = Sampled(1), baseline = Swd(gaussian), priorSwd = Swd(prior);
        output.WriteLine($"{type}: final loss {outcome.FinalLoss:F4} in {outcome.Elapsed.TotalSeconds:F1} s; SWD reverse diffusion {predictorOnly:F4}, " +
                         $"+ Langevin (snr 0.16) {withCorrector:F4}, fitted Gaussian {baseline:F4}, prior {priorSwd:F4}");
        Assert.True(predictorOnly < 0.6 * baseline, $"{type}: SWD {predictorOnly:F4} against the fitted Gaussian's {baseline:F4}");
        Assert.True(withCorrector < 0.7 * priorSwd, $"{type}: SWD {withCorrector:F4} against the prior's {priorSwd:F4}");
        // A discrete scheduler is refused with a one-line message.
        var e = Assert.Throws<DiffuseException>(() => model.CreateScheduler("ddim"));
        Assert.Equal($"'{dir}' is a continuous-time {(type == SdeType.Vp ? "VP" : "VE")} SDE model; discrete schedulers such as 'ddim' do not apply; use --sampler pc, ode or euler_maruyama", e.Message);
        Assert.Throws<DiffuseException>(() => model.Sample(4, Schedulers.Create("ddim", model.Config.Scheduler), 2, g));
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeights()
    {
        using var folder = new TempFolder();
        var template = PointTemplate(SdeType.Ve) with { Training = PointTemplate(SdeType.Ve).Training with { Steps = 20 } };
        string a = Path.Combine(folder.Path, "a"), b = Path.Combine(folder.Path, "b"), c = Path.Combine(folder.Path, "c");
        PointTraining.TrainAndSave("moons", a, template, force: false);
        PointTraining.TrainAndSave("moons", b, template, force: false);
        PointTraining.TrainAndSave("moons", c, template with { Training = template.Training with { Seed = 1 } }, force: false);
        byte[] Weights(string dir) => File.ReadAllBytes(Path.Combine(dir, ModelDirectory.EmaFile));
        Assert.Equal(Weights(a), Weights(b));
        Assert.NotEqual(Weights(a), Weights(c));
    }
}
