using Diffuse.Configuration;
using Diffuse.Evaluation;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Diffuse.Tests.Sampling;

/// <summary>
/// EDM's churn on Euler and Heun (Algorithm 2 of Karras et al. 2022, arXiv:2206.00364): off by default and then the
/// plain samplers bit for bit; when on, the noise it adds, where it adds it, what the model is told, and that Heun with
/// churn still lands on the data distribution.
/// </summary>
public class ChurnTests(ITestOutputHelper output)
{
    public static TheoryData<string> Churning => ["euler", "heun"];

    static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    static readonly SchedulerConfig Plain = new() { NumTrainTimesteps = 1000 };

    static readonly double[,] Means = { { -1, -1 }, { 1, 1 }, { 1, -1 }, { -1, 1 } };
    const double ComponentStd = 0.3;

    /// <summary>The exact eps-prediction of a 2-D mixture of four Gaussians (std 0.3, equal weights) under the config's schedule.</summary>
    static Func<Tensor, Tensor, Tensor> MixtureModel(GaussianMixture mixture, SchedulerConfig config)
    {
        var schedule = NoiseSchedule.FromConfig(config);
        var trainSigmas = Enumerable.Range(0, schedule.NumTrainTimesteps).Select(schedule.Sigma).ToArray();
        return (x, t) =>
        {
            double sigma = SigmaSchedules.Interpolate(t[0].to_type(ScalarType.Float64).item<double>(), trainSigmas);
            double abar = 1 / (1 + sigma * sigma);
            using var x0 = mixture.Denoise(x, abar);
            return (x - x0 * Math.Sqrt(abar)) / Math.Sqrt(1 - abar);
        };
    }

    static GaussianMixture Mixture() => new(Means, Enumerable.Repeat(ComponentStd, 4).ToArray(), [1, 1, 1, 1]);

    static Tensor Sample(string name, SchedulerConfig config, int steps, long n, Generator generator)
    {
        using var mixture = Mixture();
        return SamplingLoop.Run(MixtureModel(mixture, config), Schedulers.Create(name, config), steps, [n, 2], generator);
    }

    [Theory]
    [MemberData(nameof(Churning))]
    public void NoChurnIsThePlainSamplerBitForBitAndDrawsNothing(string name)
    {
        using var scope = NewDisposeScope();
        Tensor Run(SchedulerConfig config, out Tensor next)
        {
            using var g = new Generator(7);
            var x = Sample(name, config, 12, 500, g);
            next = randn([4], generator: g);
            return x;
        }
        var plain = Run(Plain, out var afterPlain);
        // s_churn 0 with the other keys set, and a churn whose range holds none of the run's sigmas (which reach about 157).
        foreach (var config in new[]
                 {
                     Plain with { SChurn = 0, STmin = 0.5, STmax = 3, SNoise = 1.007 },
                     Plain with { SChurn = 40, STmin = 200, STmax = 300 },
                 })
        {
            Assert.True(Same(plain, Run(config, out var after)), $"{name}: {config.ToJson()}");
            Assert.True(Same(afterPlain, after), $"{name}: the generator moved");
        }
        Assert.False(Same(plain, Run(Plain with { SChurn = 40 }, out _)), $"{name}: churn changed nothing");
    }

    /// <summary>
    /// Driven by a constant eps c, a whole step (one call of Euler, two of Heun) moves its starting sample by exactly
    /// (sigma_{i+1} - sigma_start) c, so each prepared step shows the churn alone: N(0, (sigma_hat^2 - sigma^2) s_noise^2)
    /// at the first call of each step whose sigma lies in [s_tmin, s_tmax], nothing elsewhere, gamma = min(s_churn / N,
    /// sqrt(2) - 1); the model is told sigma_hat's timestep and scales by 1 / sqrt(sigma_hat^2 + 1), and the step starts
    /// from (x_hat, sigma_hat).
    /// </summary>
    [Theory]
    [InlineData("euler", 2.0)]
    [InlineData("heun", 2.0)]
    [InlineData("euler", 50.0)]
    public void TheChurnAddsItsStatedNoiseOnlyInsideTheRange(string name, double sChurn)
    {
        const int steps = 10;
        const double sMin = 1, sMax = 20, sNoise = 1.3, c = 0.5;
        double gamma = Math.Min(sChurn / steps, Math.Sqrt(2) - 1);
        var config = Plain with { SChurn = sChurn, STmin = sMin, STmax = sMax, SNoise = sNoise };
        var schedule = NoiseSchedule.FromConfig(config);
        var trainSigmas = Enumerable.Range(0, schedule.NumTrainTimesteps).Select(i => (double)(float)schedule.Sigma(i)).ToArray();
        var run = (SigmaRun)Schedulers.Create(name, config).Begin(steps);
        long count = run.Timesteps.shape[0];
        // A run reads the step index off the first timestep it is given, so each sigma comes from a fresh one.
        var sigmas = Enumerable.Range(0, (int)count).Select(j => ((SigmaRun)Schedulers.Create(name, config).Begin(steps)).ModelSigmaAt(run.Timesteps[j])).Append(0).ToArray();
        using var g = new Generator(3);
        var x = zeros(20_000, 2);
        var xStart = x;
        double sigmaStart = 0, sigmaNext = 0;
        int churned = 0, kept = 0;
        for (int i = 0; i < count; i++)
        {
            using var scope = NewDisposeScope();
            var t = run.Timesteps[i];
            double sigma = sigmas[i];
            bool firstCall = name == "euler" || i % 2 == 0;
            var input = run.PrepareStep(x, t, g);
            var added = input.Sample - x;
            if (firstCall && sigma >= sMin && sigma <= sMax)
            {
                double sigmaHat = sigma * (1 + gamma), expected = Math.Sqrt(sigmaHat * sigmaHat - sigma * sigma) * sNoise;
                double std = added.std().item<float>(), mean = added.mean().item<float>();
                Assert.True(Math.Abs(std / expected - 1) < 0.02, $"{name} step {i}: std {std}, expected {expected}");
                Assert.True(Math.Abs(mean) < 0.03 * expected, $"{name} step {i}: mean {mean}");
                Assert.Equal((double)(float)SigmaSchedules.SigmaToTimestep(sigmaHat, trainSigmas), input.Timestep.item<float>(), 3);
                Assert.NotEqual(t.item<float>(), input.Timestep.item<float>());
                var scaled = run.ScaleModelInput(input.Sample, t);
                Assert.True(scaled.allclose(input.Sample / Math.Sqrt(sigmaHat * sigmaHat + 1), rtol: 1e-5, atol: 0), $"{name} step {i}: not scaled at sigma_hat");
                sigmaStart = sigmaHat;
                churned++;
            }
            else
            {
                Assert.True(Same(input.Sample, x), $"{name} step {i} (sigma {sigma}) was churned");
                Assert.Equal(t.item<float>(), input.Timestep.item<float>());
                if (firstCall) sigmaStart = sigma;
                kept++;
            }
            if (firstCall)
            {
                xStart = input.Sample.alias().DetachFromDisposeScope();
                sigmaNext = sigmas[i + 1];
            }
            var next = run.Step(full_like(x, c), t, input.Sample, g).PrevSample;
            var stepped = xStart + (sigmaNext - sigmaStart) * c;
            Assert.True(next.allclose(stepped, rtol: 1e-5, atol: 1e-3), $"{name} step {i}: the step did not go from sigma {sigmaStart} to {sigmaNext}");
            x = next.MoveToOuterDisposeScope();
        }
        output.WriteLine($"{name}, s_churn {sChurn}: {churned} calls churned, {kept} kept");
        Assert.True(churned >= 2 && kept >= 2, $"{churned} churned, {kept} kept: the range should split the run");
    }

    [Theory]
    [MemberData(nameof(Churning))]
    public void TheLoopCallsTheModelOnTheChurnedSampleAtSigmaHat(string name)
    {
        using var scope = NewDisposeScope();
        var config = Plain with { SChurn = 3, STmin = 0.5, STmax = 10 };
        var run = Schedulers.Create(name, config).Begin(8);
        var scheduled = run.Timesteps.data<float>().ToArray();
        var told = new List<float>();
        using var g = new Generator(1);
        Tensor Model(Tensor x, Tensor t) { told.Add(t[0].item<float>()); return zeros_like(x); }
        SamplingLoop.Run(Model, Schedulers.Create(name, config), 8, [3, 2], g).Dispose();
        Assert.Equal(scheduled.Length, told.Count);
        int raised = Enumerable.Range(0, told.Count).Count(i => told[i] > scheduled[i]);
        Assert.True(raised >= 2, $"{name}: the model was told a higher timestep {raised} times");
        Assert.All(Enumerable.Range(0, told.Count), i => Assert.True(told[i] >= scheduled[i]));
    }

    /// <summary>
    /// Heun with the most churn Algorithm 2 allows (gamma = sqrt(2) - 1 at every step; EDM's ImageNet-64 range [0.05, 50]
    /// and s_noise 1.003) on 100 Karras steps, driven by the exact denoiser, still samples the mixture: overall moments,
    /// mode weights and the spread within a mode. Measured: within-mode std 0.322 at 25 steps, 0.309 at 50, 0.307 at 100,
    /// 0.302 at 200 (0.3 exact): the churned sampler's error shrinks with the step count, as a consistent sampler's does.
    /// </summary>
    [Fact]
    public void HeunWithChurnLandsOnTheMixture()
    {
        using var scope = NewDisposeScope();
        var config = Plain with { UseKarrasSigmas = true };
        var churn = config with { SChurn = 200, STmin = 0.05, STmax = 50, SNoise = 1.003 };
        using var g = new Generator(11);
        var x = Sample("heun", churn, 100, 8000, g);
        var plain = Sample("heun", config, 100, 8000, g);
        using var means = tensor(Means, ScalarType.Float32);
        var nearest = cdist(x, means).argmin(1);
        var weights = bincount(nearest, minlength: 4).to_type(ScalarType.Float64) / x.shape[0];
        var within = (x - means.index_select(0, nearest)).std().item<float>();
        double overall = Math.Sqrt(1 + ComponentStd * ComponentStd);
        var std = x.std(new long[] { 0 });
        output.WriteLine($"mean {x.mean().item<float>():F4}, std {std[0].item<float>():F4} {std[1].item<float>():F4} (expected {overall:F4}), " +
                         $"weights {string.Join(" ", weights.data<double>().ToArray().Select(w => w.ToString("F3")))}, within-mode std {within:F4} (expected {ComponentStd}); " +
                         $"without churn {(plain - means.index_select(0, cdist(plain, means).argmin(1))).std().item<float>():F4}");
        Assert.True(x.mean(new long[] { 0 }).abs().max().item<float>() < 0.05);
        Assert.True((std - overall).abs().max().item<float>() < 0.02 * overall, $"std {std[0].item<float>()}, {std[1].item<float>()}");
        Assert.True((weights - 0.25).abs().max().item<double>() < 0.02);
        Assert.True(Math.Abs(within / ComponentStd - 1) < 0.04, $"within-mode std {within}");
        Assert.False(x.allclose(plain, 0, 1e-3), "churn changed nothing");
    }

    [Fact]
    public void AChurnedStepTakenWithoutPreparingItIsRefused()
    {
        using var scope = NewDisposeScope();
        var run = Schedulers.Create("euler", Plain with { SChurn = 5 }).Begin(5);
        using var g = new Generator(0);
        var x = randn(2, 2);
        var e = Assert.Throws<DiffuseException>(() => run.Step(zeros_like(x), run.Timesteps[0], x, g));
        Assert.Contains("PrepareStep", e.Message);
        // Prepared, it steps; a step that churns nothing needs no preparing.
        var narrow = Schedulers.Create("euler", Plain with { SChurn = 5, STmax = 1 }).Begin(5);
        narrow.Step(zeros_like(x), narrow.Timesteps[0], x, g).PrevSample.Dispose();
        var input = run.PrepareStep(x, run.Timesteps[0], g);
        run.Step(zeros_like(x), run.Timesteps[0], input.Sample, g).PrevSample.Dispose();
    }

    [Fact]
    public void TheKeysAreWrittenOnlyWhenSetAndTakenByEulerAndHeunOnly()
    {
        var json = new SchedulerConfig().ToJson();
        foreach (var key in new[] { "s_churn", "s_tmin", "s_tmax", "s_noise" }) Assert.DoesNotContain(key, json);
        var set = new SchedulerConfig { SChurn = 40, STmin = 0.05, STmax = double.PositiveInfinity, SNoise = 1.003 };
        var back = SchedulerConfig.FromJson(set.ToJson());
        Assert.Equal(set with { UnknownKeys = null }, back with { UnknownKeys = null });
        Assert.Equal(40, SchedulerConfig.FromJson("""{"s_churn": 40, "s_tmax": Infinity}""").SChurn);
        Assert.IsType<HeunScheduler>(Schedulers.Create("heun", set));
        foreach (var other in new[] { "ddim", "ddpm", "euler_ancestral", "dpmpp_2m", "lms" })
            Assert.Contains("applies to the euler and heun samplers only", Assert.Throws<DiffuseException>(() => Schedulers.Create(other, set)).Message);
        Assert.Contains("s_churn must be", Assert.Throws<DiffuseException>(() => Schedulers.Create("euler", Plain with { SChurn = -1 })).Message);
        Assert.Contains("s_noise must be", Assert.Throws<DiffuseException>(() => Schedulers.Create("euler", Plain with { SNoise = double.NaN })).Message);
        Assert.Contains("s_tmax must be at least s_tmin", Assert.Throws<DiffuseException>(() => Schedulers.Create("heun", Plain with { STmin = 2, STmax = 1 })).Message);
    }
}
