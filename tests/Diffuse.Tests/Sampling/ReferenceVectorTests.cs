using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>The values diffusers' public scheduler tests assert, reproduced (shared/reference/scheduler-vectors.md).</summary>
public class ReferenceVectorTests
{
    private static readonly SchedulerConfig Linear = new() { NumTrainTimesteps = 1000, BetaStart = 1e-4, BetaEnd = 0.02, ClipSample = true };

    [Theory]
    [InlineData(PredictionType.Epsilon, 258.9606, 0.3372)]
    [InlineData(PredictionType.VPrediction, 202.0296, 0.2631)]
    public void DdpmFullLoopMatchesDiffusers(PredictionType type, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create("ddpm", Linear with { PredictionType = type, VarianceType = VarianceType.FixedSmall });
        using var generator = new torch.Generator(0);
        var x = ReferenceInputs.LoopA(scheduler, 1000, ReferenceInputs.SampleDeter(), generator);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    [Fact]
    public void DdpmLoopVisitsEveryTimestepDownToZero()
    {
        var run = Schedulers.Create("ddpm", Linear).Begin(1000);
        Assert.Equal(Enumerable.Range(0, 1000).Reverse().Select(t => (long)t), run.Timesteps.data<long>().ToArray());
    }

    [Fact]
    public void DdimTenStepsMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create("ddim", Linear with { Eta = 0 });
        var x = ReferenceInputs.LoopA(scheduler, 10, ReferenceInputs.SampleDeter(), generator: null);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(172.0067, s, 1e-2);
        Assert.Equal(0.223967, m, 1e-3);
    }

    private static readonly SchedulerConfig DpmSolver = new()
    {
        NumTrainTimesteps = 1000, BetaStart = 1e-4, BetaEnd = 0.02, SolverOrder = 2, AlgorithmType = AlgorithmType.DpmsolverPlusPlus,
        SolverType = SolverType.Midpoint, LowerOrderFinal = false, EulerAtFinal = false, FinalSigmasType = FinalSigmasType.SigmaMin,
    };

    [Fact]
    public void DpmSolverMultistepTenStepsMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.LoopA(Schedulers.Create("dpmpp_2m", DpmSolver), 10, ReferenceInputs.SampleDeter(), generator: null);
        Assert.Equal(0.3301, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    [Fact]
    public void DiffusersOwnConfigJsonAsPythonWritesItGivesTheSameRun()
    {
        // diffusers' DPMSolverMultistepScheduler test config through json.dumps: bare -Infinity, None as null, bookkeeping keys.
        const string json = """
            {"_class_name": "DPMSolverMultistepScheduler", "_diffusers_version": "0.40.0.dev0", "num_train_timesteps": 1000,
             "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "solver_order": 2, "prediction_type": "epsilon",
             "thresholding": false, "sample_max_value": 1.0, "algorithm_type": "dpmsolver++", "solver_type": "midpoint",
             "lower_order_final": false, "euler_at_final": false, "lambda_min_clipped": -Infinity, "variance_type": null,
             "final_sigmas_type": "sigma_min", "trained_betas": null}
            """;
        var config = SchedulerConfig.FromJson(json);
        Assert.Equal(double.NegativeInfinity, config.LambdaMinClipped);
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.LoopA(Schedulers.Create("dpmpp_2m", json), 10, ReferenceInputs.SampleDeter(), generator: null);
        Assert.Equal(0.3301, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
        Assert.Equal(2.5, SchedulerConfig.FromJson("""{"sample_max_value": 2.5, "_note": "NaN inside a string stays a string"}""").SampleMaxValue);
        Assert.Throws<DiffuseException>(() => SchedulerConfig.FromJson("""{"sample_max_value": "x"}"""));
    }

    [Fact]
    public void DpmSolverMultistepWithNoiseMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create("dpmpp_2m", DpmSolver);
        var ts = scheduler.Begin(10).Timesteps.data<long>().Skip(5).ToArray();
        var x = scheduler.AddNoise(ReferenceInputs.SampleDeter(), ReferenceInputs.NoiseDeter(), torch.tensor(ts[..1]));
        x = ReferenceInputs.LoopA(scheduler, 10, x, generator: null, only: ts);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(318.4111, s, 1e-2);
        Assert.Equal(0.4146, m, 1e-3);
    }

    [Theory]
    [InlineData("euler", 57062.9297, 74.3007, 1e-2, 1e-3)]
    [InlineData("euler_ancestral", 56163.0508, 73.1290, 1e-2, 1e-3)]
    [InlineData("heun", 75074.8906, 97.7538, 1e-2, 1e-3)]
    [InlineData("lms", 27663.6895, 36.0204, 1e-2, 1e-3)]
    [InlineData("dpm2", 70408.4062, 91.6776, 1e-2, 1e-3)]
    [InlineData("dpm2_ancestral", 93087.3437, 121.2074, 1e-2, 5e-3)]
    public void SigmaSchedulersWithNoiseMatchDiffusers(string name, double sum, double mean, double sumTolerance, double meanTolerance)
    {
        // diffusers' test_full_loop_with_noise: 10 steps, t_start 8, add_noise x0 + sigma noise at the run's sigma.
        using var scope = torch.NewDisposeScope();
        using var generator = new torch.Generator(0);
        var x = ReferenceInputs.LoopWithNoise(Schedulers.Create(name, SigmaLinear), 10, 8, sigmaLoop: true, generator);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, sumTolerance);
        Assert.Equal(mean, m, meanTolerance);
    }

    [Theory]
    [InlineData("dpmpp_2m", 5, 318.4111, 0.4146)]
    [InlineData("unipc", 8, 315.5757, 0.4109)]
    [InlineData("ddim", 8, 354.5418, 0.4616)]
    public void VpSchedulersWithNoiseMatchDiffusers(string name, int tStart, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var config = name switch
        {
            "dpmpp_2m" => DpmSolver,
            "unipc" => Linear with { ClipSample = null, SolverOrder = 2, SolverType = SolverType.Bh2, FinalSigmasType = FinalSigmasType.SigmaMin },
            _ => Linear,
        };
        var x = ReferenceInputs.LoopWithNoise(Schedulers.Create(name, config), 10, tStart, sigmaLoop: false, generator: null);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    [Fact]
    public void UniPcWithNoiseOnOneDimensionalSamplesMatchesDiffusers()
    {
        // UniPCMultistepScheduler1DTest: samples (4, 3, 8), arange(96) laid out as (C, W, B).
        using var scope = torch.NewDisposeScope();
        var sample = torch.arange(96, torch.float32).reshape(3, 8, 4).div(96).permute(2, 0, 1);
        var noise = torch.arange(96, torch.float32).flip(0).reshape(3, 8, 4).div(96).permute(2, 0, 1);
        var config = Linear with { ClipSample = null, SolverOrder = 2, SolverType = SolverType.Bh2, FinalSigmasType = FinalSigmasType.SigmaMin };
        var x = ReferenceInputs.LoopWithNoise(Schedulers.Create("unipc", config), 10, 8, sigmaLoop: false, generator: null, sample, noise);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(39.0870, s, 1e-2);
        Assert.Equal(0.4072, m, 1e-3);
    }

    [Fact]
    public void UniPcTenStepsMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var config = Linear with { SolverOrder = 2, SolverType = SolverType.Bh2, FinalSigmasType = FinalSigmasType.SigmaMin };
        var x = ReferenceInputs.LoopA(Schedulers.Create("unipc", config), 10, ReferenceInputs.SampleDeter(), generator: null);
        Assert.Equal(0.2464, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    /// <summary>diffusers' test_full_loop_with_v_prediction and _with_karras_and_v_prediction of DPM-Solver multistep and UniPC.</summary>
    [Theory]
    [InlineData("dpmpp_2m", false, 0.2251)]
    [InlineData("dpmpp_2m", true, 0.2096)]
    [InlineData("unipc", false, 0.1014)]
    [InlineData("unipc", true, 0.1966)]
    public void MultistepVPredictionMatchesDiffusers(string name, bool karras, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var config = name == "unipc"
            ? Linear with { SolverOrder = 2, SolverType = SolverType.Bh2, FinalSigmasType = FinalSigmasType.SigmaMin }
            : DpmSolver;
        var x = ReferenceInputs.DeterministicLoopA(name, config with { PredictionType = PredictionType.VPrediction, UseKarrasSigmas = karras });
        Assert.Equal(mean, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    [Theory]
    [InlineData("euler", false, 10.0807, 0.0131)]
    [InlineData("euler", true, 124.5230, 0.16214)]
    [InlineData("euler_ancestral", false, 152.3192, 0.1983)]
    [InlineData("lms", false, 1006.388, 1.31)]
    [InlineData("heun", false, 0.1233, 0.0002)]
    [InlineData("heun", true, 0.00015, 1.9869554535034695e-07)]
    [InlineData("dpm2", false, 20.4125, 0.0266)]
    [InlineData("dpm2_ancestral", false, 13979.9433, 18.2030)]
    public void SigmaSchedulersMatchDiffusers(string name, bool karras, double sum, double mean) =>
        SigmaLoopMatches(name, SigmaLinear with { UseKarrasSigmas = karras }, sum, mean);

    [Theory]
    [InlineData("heun", 4.6934e-07, 6.1112e-10)]
    [InlineData("dpm2", 4.6934e-07, 6.1112e-10)]
    [InlineData("dpm2_ancestral", 331.8133, 0.4320)]
    public void SigmaSchedulersMatchDiffusersWithVPrediction(string name, double sum, double mean) =>
        SigmaLoopMatches(name, SigmaLinear with { PredictionType = PredictionType.VPrediction }, sum, mean);

    [Theory]
    [InlineData("euler", 0.0002, 2.2676e-06)]
    [InlineData("euler_ancestral", 108.4439, 0.1412)]
    [InlineData("lms", 0.0017, 2.2676e-06)]
    public void MoreSigmaSchedulersMatchDiffusersWithVPrediction(string name, double sum, double mean) =>
        SigmaLoopMatches(name, SigmaLinear with { PredictionType = PredictionType.VPrediction }, sum, mean);

    [Fact]
    public void DdimTenStepsWithVPredictionMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.DeterministicLoopA("ddim", Linear with { PredictionType = PredictionType.VPrediction });
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(52.5302, s, 1e-2);
        Assert.Equal(0.0684, m, 1e-3);
    }

    [Theory]
    [InlineData(false, 149.0784, 0.1941)]
    [InlineData(true, 149.8295, 0.1951)]
    public void DdimSetAlphaToOneMatchesDiffusers(bool setAlphaToOne, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.DeterministicLoopA("ddim", Linear with { BetaStart = 0.01, SetAlphaToOne = setAlphaToOne });
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    /// <summary>diffusers' test_full_loop_with_noise: DDPM over its last two timesteps (t_start 998 of 1000), DDIM over timesteps[8:] of 10.</summary>
    [Theory]
    [InlineData("ddpm", 1000, 998, 387.9466, 0.5051)]
    [InlineData("ddim", 10, 8, 354.5418, 0.4616)]
    public void DdpmAndDdimWithNoiseMatchDiffusers(string name, int steps, int start, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create(name, Linear);
        var ts = scheduler.Begin(steps).Timesteps.data<long>().Skip(start).ToArray();
        var x = scheduler.AddNoise(ReferenceInputs.SampleDeter(), ReferenceInputs.NoiseDeter(), torch.tensor(ts[..1]));
        using var generator = new torch.Generator(0);
        x = ReferenceInputs.LoopA(scheduler, steps, x, generator, only: ts);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    /// <summary>The config of diffusers' sigma-based scheduler tests: 1100 train steps, clip_sample at its default.</summary>
    private static readonly SchedulerConfig SigmaLinear = Linear with { NumTrainTimesteps = 1100, ClipSample = null };

    private static void SigmaLoopMatches(string name, SchedulerConfig config, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create(name, config);
        using var generator = new torch.Generator(0);
        var x = ReferenceInputs.LoopB(scheduler, 10, ReferenceInputs.SampleDeter(), generator);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    [Theory]
    [InlineData(0, 0.0)]
    [InlineData(487, 0.00979)]
    [InlineData(999, 0.02)]
    public void DdpmFixedSmallVarianceMatchesDiffusers(int t, double expected)
    {
        var scheduler = new DdpmScheduler(Linear with { VarianceType = VarianceType.FixedSmall });
        Assert.Equal(expected, scheduler.StepVariance(t, t - 1), 1e-5);
    }

    [Fact]
    public void DdpmFixedSmallVarianceIsClampedAtTimestepZero() =>
        Assert.Equal(1e-20, new DdpmScheduler(Linear).StepVariance(0, -1));

    [Theory]
    [InlineData(420, 400, 0.14771)]
    [InlineData(980, 960, 0.32460)]
    public void DdimVarianceMatchesDiffusers(int t, int prev, double expected) =>
        Assert.Equal(expected, new DdimScheduler(Linear).StepVariance(t, prev), 1e-5);

    [Fact]
    public void DdimStepsOffsetTimestepsMatchDiffusers()
    {
        var run = new DdimScheduler(Linear with { StepsOffset = 1 }).Begin(5);
        Assert.Equal(new long[] { 801, 601, 401, 201, 1 }, run.Timesteps.data<long>().ToArray());
    }

    [Theory]
    [InlineData(TimestepSpacing.Leading, new long[] { 900, 800, 700, 600, 500, 400, 300, 200, 100, 0 })]
    [InlineData(TimestepSpacing.Trailing, new long[] { 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 })]
    [InlineData(TimestepSpacing.Linspace, new long[] { 999, 888, 777, 666, 555, 444, 333, 222, 111, 0 })]
    public void TimestepSpacingsMatchDiffusers(TimestepSpacing spacing, long[] expected) =>
        Assert.Equal(expected, StepMath.Timesteps(spacing, 1000, 10, 0));

    [Fact]
    public void TrailingSpacingRoundsHalfToEvenLikeNumPy() =>
        // arange(1000, 0, -1000/3) = [1000, 666.67, 333.33] -> round -> [1000, 667, 333] - 1
        Assert.Equal(new long[] { 999, 666, 332 }, StepMath.Timesteps(TimestepSpacing.Trailing, 1000, 3, 0));
}
