using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>
/// What every scheduler promises (STYLE.md item 14a). A scheduler's test class inherits this with no
/// special cases; it only says which configs to use.
/// </summary>
public abstract class SchedulerContractTests<T> where T : IScheduler
{
    /// <summary>The registry name.</summary>
    protected abstract string Name { get; }

    /// <summary>A config whose steps draw noise; null for a scheduler that never draws any.</summary>
    protected virtual SchedulerConfig? StochasticConfig => null;

    /// <summary>A config, possibly stochastic, for which a perfect x_0 predictor lands on x_0.</summary>
    protected virtual SchedulerConfig Config => new() { NumTrainTimesteps = 1000 };

    /// <summary>
    /// The length of a run's timesteps for <paramref name="steps"/> steps: one entry per step, or 2n - 1 for a
    /// two-stage method (Order 2, as diffusers' Heun and KDPM2). A method that revisits timesteps otherwise
    /// (PNDM's Runge-Kutta warm-up and pseudo-Heun first step) says how many it lists.
    /// </summary>
    protected virtual int TimestepCount(int steps, int order) => steps * order - (order - 1);

    /// <summary>
    /// Prediction types under which a perfect x_0 predictor need not land on x_0 (it must still give finite samples and
    /// the right per-step x_0): diffusers' PNDM combines v outputs of several timesteps before reading them as eps.
    /// </summary>
    protected virtual PredictionType[] InexactPredictionTypes => [];

    /// <summary>
    /// How far a timestep may rise above the one before it in a run that lists more than one per step: 0, or float32
    /// rounding for a method whose midpoint timestep equals the next step's in exact arithmetic (KDPM2 ancestral).
    /// </summary>
    protected virtual double TimestepRounding => 0;

    /// <summary>How far from x_0 a perfect x_0 predictor may end: float error, or the noise left by a run that ends at the smallest training sigma (DEIS).</summary>
    protected virtual double FinalTolerance => 1e-4;

    /// <summary>
    /// Whether the scheduler inverts (goes from data up to noise, timesteps ascending, like <c>ddim_inverse</c>):
    /// its timesteps ascend, and its own tests check where a perfect predictor takes it.
    /// </summary>
    protected virtual bool Inverts => false;

    private IScheduler Create(SchedulerConfig config)
    {
        var scheduler = Schedulers.Create(Name, config);
        Assert.IsType<T>(scheduler);
        Assert.Equal(Name, scheduler.Name);
        return scheduler;
    }

    [Fact]
    public void ConfigRoundTripsThroughJson()
    {
        foreach (var config in new[] { Config, StochasticConfig ?? Config, Config with { PredictionType = PredictionType.VPrediction, TimestepSpacing = TimestepSpacing.Trailing, StepsOffset = 1, ClipSample = false } })
        {
            var json = Create(config).Config.ToJson();
            var back = SchedulerConfig.FromJson(json);
            Assert.Equal(config, back);
            Assert.Equal(config, Schedulers.Create(Name, json).Config);
        }
    }

    [Fact]
    public void StepKeepsTheSampleShapeAndDtype()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var run = Create(StochasticConfig ?? Config).Begin(10);
        var x = torch.randn(new long[] { 2, 3, 5, 4 }, generator: g);
        var t = run.Timesteps[0];
        var result = run.Step(torch.randn(x.shape, generator: g), t, x, g);
        Assert.Equal(x.shape, result.PrevSample.shape);
        Assert.Equal(x.dtype, result.PrevSample.dtype);
        Assert.Equal(x.shape, result.PredOriginalSample!.shape);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(1000)]
    public void TimestepsDescendWithOneEntryPerStep(int steps)
    {
        foreach (var spacing in Enum.GetValues<TimestepSpacing>())
        {
            SamplingRun run;
            IScheduler scheduler;
            try
            {
                scheduler = Create(Config with { TimestepSpacing = spacing });
            }
            catch (DiffuseException e)
            {
                // A spacing the scheduler does not offer (as diffusers' inverse DDIM has no linspace) is refused at creation.
                Assert.Contains("timestep_spacing", e.Message);
                Assert.DoesNotContain('\n', e.Message);
                continue;
            }
            try
            {
                run = scheduler.Begin(steps);
            }
            catch (DiffuseException e) when (steps == 1000 && spacing != TimestepSpacing.Trailing)
            {
                // A scheduler whose spacing puts n + 1 points on the T training steps (diffusers' multistep
                // ones) would repeat timesteps at n = T; it may refuse that, in one line naming the count.
                Assert.Contains("1000", e.Message);
                Assert.DoesNotContain('\n', e.Message);
                continue;
            }
            Assert.Contains(run.Timesteps.dtype, new[] { torch.int64, torch.float32 });
            var ts = Values(run.Timesteps);
            Assert.Equal(TimestepCount(steps, run.Order), ts.Length);
            Assert.All(ts, t => Assert.InRange(t, 0, 999));
            if (Inverts) ts = ts.Reverse().ToArray();
            for (var i = 1; i < ts.Length; i++)
                Assert.True(ts.Length == steps ? ts[i] < ts[i - 1] : ts[i] <= ts[i - 1] + TimestepRounding, $"{spacing}: {ts[i - 1]} then {ts[i]}");
        }
    }

    [Fact]
    public void SameSeedGivesTheSameSampleAndAnotherSeedAnother()
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Create(StochasticConfig ?? Config);
        torch.Tensor Sample(int seed)
        {
            using var g = new torch.Generator((ulong)seed);
            return ReferenceInputs.LoopA(scheduler, 5, ReferenceInputs.SampleDeter(), g);
        }
        var a = Sample(1);
        Assert.True(torch.allclose(a, Sample(1), rtol: 0, atol: 0));
        if (StochasticConfig is null) Assert.True(torch.allclose(a, Sample(2), rtol: 0, atol: 0), "a deterministic scheduler depends on no seed");
        else Assert.False(torch.allclose(a, Sample(2), rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void StochasticStepWithoutAGeneratorIsAnError()
    {
        using var scope = torch.NewDisposeScope();
        var run = Create(StochasticConfig ?? Config).Begin(10);
        var x = torch.ones(1, 2);
        if (StochasticConfig is null)
        {
            Assert.Equal(x.shape, run.Step(x, run.Timesteps[0], x, generators: null).PrevSample.shape);
            return;
        }
        var e = Assert.Throws<DiffuseException>(() => run.Step(x, run.Timesteps[0], x, generators: null));
        Assert.Contains(Name, e.Message);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon, 10)]
    [InlineData(PredictionType.Sample, 10)]
    [InlineData(PredictionType.VPrediction, 10)]
    [InlineData(PredictionType.Epsilon, 1)]
    public void APerfectOriginalPredictorRecoversTheTarget(PredictionType type, int steps)
    {
        if (Inverts) return; // an inversion goes to noise; its own tests check that it lands on the forward marginal
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(3);
        var config = Config with { PredictionType = type };
        if (!Create(Config).SupportedPredictionTypes.Contains(type))
        {
            var e = Assert.Throws<DiffuseException>(() => Create(config));
            Assert.Contains("prediction_type", e.Message);
            Assert.DoesNotContain('\n', e.Message);
            return;
        }
        var exact = !InexactPredictionTypes.Contains(type);
        var scheduler = Create(config);
        var target = torch.rand(new long[] { 2, 3, 4, 4 }, generator: g) * 1.8 - 0.9;
        var run = scheduler.Begin(steps);
        var x = torch.randn(target.shape, generator: g) * run.InitNoiseSigma;
        var abar = NoiseSchedule.FromConfig(config).AlphasCumprod;
        var ts = Values(run.Timesteps);
        for (var i = 0; i < ts.Length; i++)
        {
            using var stepScope = torch.NewDisposeScope();
            var t = run.Timesteps[i];
            // The model output that reads back as exactly `target` at the model's input. A sigma-based run (which
            // scales the input by 1 / sqrt(sigma^2 + 1), rounded in float32 as diffusers) has its input at
            // abar = 1 / (sigma^2 + 1); the others at the abar of t.
            var scaled = run.ScaleModelInput(x, t);
            var sigma = run is SigmaRun sigmaRun ? sigmaRun.ModelSigmaAt(t) : (double?)null;
            var output = GaussianDiffusion.Convert(PredictionType.Sample, type, target, scaled, sigma is { } s ? 1 / (s * s + 1) : abar[(long)ts[i]]);
            var result = run.Step(output, t, x, g);
            Assert.True(torch.allclose(target, result.PredOriginalSample!, rtol: 0, atol: 1e-4));
            x = result.PrevSample.MoveToOuterDisposeScope();
        }
        if (exact) Assert.True(torch.allclose(target, x, rtol: 0, atol: FinalTolerance), $"max error {(target - x).abs().max().item<float>()}");
        else Assert.True(x.isfinite().all().item<bool>());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1001)]
    public void StepCountOutsideOneToTIsRefused(int steps)
    {
        var e = Assert.Throws<DiffuseException>(() => Create(Config).Begin(steps));
        Assert.Contains(steps.ToString(), e.Message);
    }

    /// <summary>x0 and noise's coefficients in AddNoise(x0, noise, t), one per sample, read off with unit inputs.</summary>
    private static (double[] Signal, double[] Noise) AddNoiseCoefficients(Func<torch.Tensor, torch.Tensor, torch.Tensor> addNoise, int batch)
    {
        using var scope = torch.NewDisposeScope();
        var ones = torch.ones(batch, 3, 2, 2);
        var zeros = torch.zeros(batch, 3, 2, 2);
        return (addNoise(ones, zeros)[.., 0, 0, 0].to_type(torch.float64).data<double>().ToArray(),
                addNoise(zeros, ones)[.., 0, 0, 0].to_type(torch.float64).data<double>().ToArray());
    }

    [Fact]
    public void AddNoiseAtTrainingTimestepsIsTheForwardProcess()
    {
        // Whether written as sqrt(abar) x0 + sqrt(1 - abar) noise (DDPM, DDIM, multistep) or as x0 + sigma noise
        // (sigma-based), noise over signal is sigma_t = sqrt((1 - abar_t) / abar_t), and the map is linear.
        using var scope = torch.NewDisposeScope();
        var scheduler = Create(Config);
        long[] ts = [0, 10, 500, 999];
        var t = torch.tensor(ts);
        var (signal, noise) = AddNoiseCoefficients((x0, n) => scheduler.AddNoise(x0, n, t), ts.Length);
        var abar = NoiseSchedule.FromConfig(Config).AlphasCumprod;
        for (var i = 0; i < ts.Length; i++)
        {
            Assert.Equal(Math.Sqrt((1 - abar[ts[i]]) / abar[ts[i]]), noise[i] / signal[i], 1e-5 * (1 + noise[i] / signal[i]));
            Assert.True(signal[i] == 1 || Math.Abs(signal[i] - Math.Sqrt(abar[ts[i]])) < 1e-6, $"signal {signal[i]} at t {ts[i]}");
        }
        var x0 = ReferenceInputs.SampleDeter();
        var eps = ReferenceInputs.NoiseDeter();
        var expected = x0 * torch.tensor(signal).view(-1, 1, 1, 1) + eps * torch.tensor(noise).view(-1, 1, 1, 1);
        Assert.True(torch.allclose(expected.to_type(torch.float32), scheduler.AddNoise(x0, eps, t), rtol: 1e-5, atol: 1e-5));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void AddNoiseAtARunsTimestepGivesTheModelAVariancePreservingInput(bool karras)
    {
        // The run's model sees sqrt(abar) x0 + sqrt(1 - abar) noise at its own level: a scheduler that noised to
        // another sigma than its run's (or in another parameterisation) would break c0^2 + c1^2 = 1.
        var config = Config with { UseKarrasSigmas = karras };
        var scheduler = Create(config);
        var count = Values(scheduler.Begin(10).Timesteps).Length;
        for (var k = 0; k < count; k++)
        {
            using var scope = torch.NewDisposeScope();
            var run = scheduler.Begin(10);
            var t = run.Timesteps[k..(k + 1)];
            var (signal, noise) = AddNoiseCoefficients((x0, n) => run.ScaleModelInput(scheduler.AddNoise(x0, n, t), t), 1);
            Assert.Equal(1, signal[0] * signal[0] + noise[0] * noise[0], 1e-5);
            var fromRun = AddNoiseCoefficients((x0, n) => run.AddNoise(x0, n, t), 1);
            var fromScheduler = AddNoiseCoefficients((x0, n) => scheduler.AddNoise(x0, n, t), 1);
            Assert.Equal(fromScheduler.Signal[0], fromRun.Signal[0], 1e-7);
            Assert.Equal(fromScheduler.Noise[0], fromRun.Noise[0], 1e-7);
        }
    }

    [Fact]
    public void DescribeIsOneLine()
    {
        var text = Schedulers.Describe(Name);
        Assert.False(string.IsNullOrWhiteSpace(text));
        Assert.DoesNotContain('\n', text);
        Assert.Contains(Name, Schedulers.Names);
    }

    [Fact]
    public void UnknownConfigKeyIsNamed()
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, """{"num_train_timesteps": 1000, "foo": 1}"""));
        Assert.Equal($"unknown scheduler config key 'foo' for {Name}", e.Message);
    }

    [Theory]
    [InlineData("eta", -0.5)]
    [InlineData("clip_sample_range", 0.0)]
    [InlineData("clip_sample_range", -1.0)]
    [InlineData("num_train_timesteps", 0)]
    [InlineData("beta_start", 0)]
    [InlineData("steps_offset", -1)]
    public void OutOfRangeValuesAreNamed(string key, double value)
    {
        var json = $$"""{"{{key}}": {{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}""";
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(key, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    private static double[] Values(torch.Tensor timesteps)
    {
        using var asDouble = timesteps.to_type(torch.float64);
        return asDouble.data<double>().ToArray();
    }
}
