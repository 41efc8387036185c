using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Likelihood;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Training;

/// <summary>Learned variances (learned_range) trained by the hybrid loss, with uniform or loss-aware timesteps.</summary>
public class HybridTrainingTests
{
    static TrainingObjective Objective(PredictionType prediction, int timesteps = 20)
    {
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = timesteps }), prediction);
        return new TrainingObjective(diffusion, new TrainingSpec { Loss = LossWeighting.Hybrid, VlbWeight = 0.001 });
    }

    [Theory]
    [InlineData(PredictionType.Epsilon)]
    [InlineData(PredictionType.VPrediction)]
    public void TheBoundSendsNoGradientIntoTheMeanChannels(PredictionType prediction)
    {
        var objective = Objective(prediction);
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 20 }), prediction);
        using var g = new Generator(3);
        using var x0 = rand([3, 2, 4, 4], generator: g) * 2 - 1;
        using var noise = randn([3, 2, 4, 4], generator: g);
        using var t = tensor(new long[] { 0, 7, 19 });
        using var raw = randn([3, 4, 4, 4], generator: g);
        using var output = raw.detach().requires_grad_(true);
        objective.PerSample(output, x0, noise, t).sum().backward();
        var grad = output.grad!;

        // The mean's channels see the MSE alone: the same gradient as L_simple's.
        using var mseOnly = raw.detach().requires_grad_(true);
        (mseOnly.narrow(1, 0, 2) - diffusion.Target(x0, noise, t)).square().reshape(3, -1).mean([1]).sum().backward();
        Assert.True(allclose(grad.narrow(1, 0, 2), mseOnly.grad!.narrow(1, 0, 2), rtol: 1e-6, atol: 1e-9));
        // The variance's channels are trained, by L_vlb only.
        Assert.True(grad.narrow(1, 2, 2).abs().max().item<float>() > 0);
        Assert.Equal(0, mseOnly.grad!.narrow(1, 2, 2).abs().max().item<float>());
    }

    [Fact]
    public void TheHybridLossIsTheMsePlusLambdaTTimesTheBoundsTerm()
    {
        var objective = Objective(PredictionType.Epsilon);
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 20 }), PredictionType.Epsilon);
        var bound = new VariationalBound(diffusion, ReverseVariance.LearnedRange, DataDecoder.Discretized8Bit);
        using var g = new Generator(4);
        using var x0 = rand([2, 1, 4, 4], generator: g) * 2 - 1;
        using var noise = randn([2, 1, 4, 4], generator: g);
        using var t = tensor(new long[] { 0, 11 });
        using var output = randn([2, 2, 4, 4], generator: g).clamp(-1, 1);
        using var loss = objective.PerSample(output, x0, noise, t);
        using var mse = (output.narrow(1, 0, 1) - noise).square().reshape(2, -1).mean([1]);
        using var vb = bound.TermBitsPerDim(output, x0, diffusion.QSample(x0, t, noise), t);
        Assert.True(allclose(loss, mse + 0.001 * 20 * vb, rtol: 1e-5, atol: 1e-7));
    }

    [Fact]
    public void TheHybridLossNeedsLearnedRangeAndTheDiffusionsLossRefusesIt()
    {
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(new SchedulerConfig { NumTrainTimesteps = 10 }), PredictionType.Epsilon);
        using var x = zeros(2, 1, 4, 4);
        using var t = zeros(2, int64);
        Assert.Throws<DiffuseException>(() => diffusion.Loss(x, x, x, t, LossWeighting.Hybrid));
        var objective = Objective(PredictionType.Epsilon, 10);
        var error = Assert.Throws<DiffuseException>(() => objective.PerSample(x, x, x, t));
        Assert.Contains("twice", error.Message);
    }

    public static ModelConfig LearnedTemplate(int steps, int timesteps, TimestepSampling sampler)
    {
        var template = ImageTrainingTests.TinyTemplate(steps);
        return template with
        {
            Unet = template.Unet! with { OutChannels = 2 },
            Scheduler = template.Scheduler with { NumTrainTimesteps = timesteps, VarianceType = VarianceType.LearnedRange },
            Training = template.Training with { Loss = LossWeighting.Hybrid, VlbWeight = 0.001, TimestepSampler = sampler },
        };
    }

    static string Data(TempFolder folder)
    {
        var data = Path.Combine(folder.Path, "idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        return data;
    }

    static ImageTrainingOptions Options(string data, string outDir, ModelConfig template) =>
        new() { Data = data, OutDir = outDir, Template = template, LogEvery = 2, ValidationImages = 8 };

    static byte[] Weights(string dir, string file) => File.ReadAllBytes(Path.Combine(dir, file));

    [Fact]
    public void ALossAwareLearnedVarianceRunResumesBitwiseExactly()
    {
        // 4 timesteps and 8 images a step: the sampler's history fills (10 losses per timestep) before the stop, so the
        // resumed run draws its timesteps from the restored history, not uniformly.
        using var folder = new TempFolder();
        var data = Data(folder);
        string straight = Path.Combine(folder.Path, "straight"), resumed = Path.Combine(folder.Path, "resumed");
        var template = LearnedTemplate(12, 4, TimestepSampling.LossAware);

        var one = ImageTraining.Run(Options(data, straight, template));
        Assert.Equal(12, one.EndStep);
        Assert.True(double.IsFinite(one.FinalLoss));
        Assert.True(one.ValidationLoss is { } v && double.IsFinite(v));

        ImageTraining.Run(Options(data, resumed, template) with { StopAtStep = 8 });
        using (var file = SafeTensors.Read(ImageTraining.CheckpointPath(resumed)))
        {
            var counts = file.Tensors["timestep_sampler.counts"].data<long>().ToArray();
            Assert.Equal([10L, 10L, 10L, 10L], counts);
        }
        var second = ImageTraining.Run(new ImageTrainingOptions { OutDir = resumed, Resume = true, LogEvery = 2, ValidationImages = 8 });
        Assert.Equal(8, second.StartStep);
        Assert.Equal(12, second.EndStep);
        Assert.Equal(Weights(straight, ModelDirectory.ModelFile), Weights(resumed, ModelDirectory.ModelFile));
        Assert.Equal(Weights(straight, ModelDirectory.EmaFile), Weights(resumed, ModelDirectory.EmaFile));
        Assert.Equal(File.ReadAllBytes(ImageTraining.CheckpointPath(straight)).Length, File.ReadAllBytes(ImageTraining.CheckpointPath(resumed)).Length);

        var config = File.ReadAllText(Path.Combine(straight, ModelDirectory.ConfigFile));
        Assert.Contains("\"variance_type\": \"learned_range\"", config);
        Assert.Contains("\"loss\": \"hybrid\"", config);
        Assert.Contains("\"vlb_weight\": 0.001", config);
        Assert.Contains("\"timestep_sampler\": \"loss_aware\"", config);
        Assert.Contains("\"out_channels\": 2", config);

        // A model trained so samples with the learned variance (ddpm) and without it (the others drop its channels).
        using var model = ImageModel.Load(straight);
        using (var probe = model.Network.forward(zeros(1, 1, 28, 28), zeros(1, int64)))
            Assert.Equal([1L, 2, 28, 28], probe.shape);
        foreach (var sampler in new[] { "ddpm", "ddim", "dpmpp_2m", "dpmpp_2s", "euler", "unipc" })
        {
            using var g = new Generator(1);
            using var images = model.Sample(3, Schedulers.Create(sampler, model.Config.Scheduler), 3, g);
            Assert.Equal([3L, 1, 28, 28], images.shape);
            Assert.True(images.isfinite().all().item<bool>(), sampler);
        }
        // The ELBO reads the learned variance.
        using var x0 = rand([2, 1, 28, 28], generator: new Generator(2)) * 2 - 1;
        using var eg = new Generator(5);
        var elbo = ModelLikelihood.Elbo((x, t) => model.Network.forward(x, t), model.Config.Scheduler, x0, DataDecoder.Discretized8Bit, 2, eg);
        Assert.True(double.IsFinite(elbo.Total.Mean) && elbo.Total.Mean > 0);
    }

    [Theory]
    [InlineData(PredictionType.Sample)]
    [InlineData(PredictionType.VPrediction)]
    public void OtherPredictionTypesLearnVariancesTooAsInImprovedDiffusion(PredictionType prediction)
    {
        using var folder = new TempFolder();
        var template = LearnedTemplate(2, 10, TimestepSampling.Uniform);
        template = template with { Scheduler = template.Scheduler with { PredictionType = prediction } };
        var dir = Path.Combine(folder.Path, "run");
        var outcome = ImageTraining.Run(Options(Data(folder), dir, template));
        Assert.True(double.IsFinite(outcome.FinalLoss));
        using var model = ImageModel.Load(dir);
        foreach (var sampler in new[] { "ddpm", "ddim", "dpmpp_2m" })
        {
            using var g = new Generator(1);
            using var images = model.Sample(2, Schedulers.Create(sampler, model.Config.Scheduler), 3, g);
            Assert.True(images.isfinite().all().item<bool>(), sampler);
        }
    }

    [Fact]
    public void TheDdpmSamplerUsesTheLearnedVarianceAndDdimDoesNot()
    {
        // The same learned-variance network: ddpm's noise depends on the v channels, ddim never sees them.
        using var folder = new TempFolder();
        var template = LearnedTemplate(1, 10, TimestepSampling.Uniform);
        var config = template with
        {
            Unet = template.Unet! with { InChannels = 1, ImageSize = 28 },
            Data = new DataSpec { Name = "x", Dim = 784, Mean = [], Scale = 1, Image = new ImageSpec { Channels = 1, Height = 28, Width = 28 } },
        };
        config.Validate();
        using var network = new Diffuse.Models.UNet2D(config.Unet!);
        using (var init = new Generator(1)) network.ResetParameters(init);
        network.eval();
        using var model = ImageModel.FromNetwork(config, network);
        Tensor Draw(string sampler, double bias)
        {
            using (no_grad()) network.state_dict()["conv_out.bias"][1].fill_(bias);
            using var g = new Generator(9);
            return model.Sample(2, Schedulers.Create(sampler, config.Scheduler), 4, g);
        }
        using Tensor ddpmA = Draw("ddpm", -1), ddpmB = Draw("ddpm", 1), ddimA = Draw("ddim", -1), ddimB = Draw("ddim", 1);
        Assert.False(eq(ddpmA, ddpmB).all().item<bool>());
        Assert.True(eq(ddimA, ddimB).all().item<bool>());
    }
}
