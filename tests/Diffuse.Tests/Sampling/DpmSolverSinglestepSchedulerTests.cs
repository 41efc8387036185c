using Diffuse.Configuration;
using System.Text.Json;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DpmSolverSinglestepSchedulerTests : SchedulerContractTests<DpmSolverSinglestepScheduler>
{
    protected override string Name => "dpmpp_2s";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000, AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus };

    /// <summary>diffusers' test_scheduler_dpm_single.py: <c>get_scheduler_config()</c>, whose final sigma is sigma_min.</summary>
    private const string DiffusersTestConfig = """
        {"num_train_timesteps": 1000, "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "linear", "solver_order": 2,
         "prediction_type": "epsilon", "thresholding": false, "sample_max_value": 1.0, "algorithm_type": "dpmsolver++",
         "solver_type": "midpoint", "lambda_min_clipped": "-Infinity", "final_sigmas_type": "sigma_min"}
        """;

    private static IScheduler DiffusersTest(Func<SchedulerConfig, SchedulerConfig>? change = null) =>
        Schedulers.Create("dpmpp_2s", (change ?? (c => c))(SchedulerConfig.FromJson(DiffusersTestConfig)));

    [Theory]
    [InlineData(false, PredictionType.Epsilon, 0.2791)] // test_full_loop_no_noise, test_switch
    [InlineData(true, PredictionType.Epsilon, 0.2248)] // test_full_loop_with_karras
    [InlineData(false, PredictionType.VPrediction, 0.1453)] // test_full_loop_with_v_prediction
    [InlineData(true, PredictionType.VPrediction, 0.0649)] // test_full_loop_with_karras_and_v_prediction
    public void FullLoopMatchesDiffusers(bool karras, PredictionType type, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = DiffusersTest(c => c with { UseKarrasSigmas = karras, PredictionType = type });
        var x = ReferenceInputs.LoopA(scheduler, 10, ReferenceInputs.SampleDeter(), generator: null);
        Assert.Equal(mean, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    [Fact]
    public void UnevenStartMatchesDiffusers()
    {
        // test_full_uneven_loop: 50 steps entered at timesteps[3:], so the first step's order-2 slot falls back to order 1.
        using var scope = torch.NewDisposeScope();
        var scheduler = DiffusersTest();
        var ts = scheduler.Begin(50).Timesteps.data<long>().Skip(3).ToArray();
        var x = ReferenceInputs.LoopA(scheduler, 50, ReferenceInputs.SampleDeter(), generator: null, only: ts);
        Assert.Equal(0.2574, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    [Fact]
    public void FullLoopWithNoiseMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = DiffusersTest();
        var ts = scheduler.Begin(10).Timesteps.data<long>().Skip(5).ToArray();
        var x = scheduler.AddNoise(ReferenceInputs.SampleDeter(), ReferenceInputs.NoiseDeter(), torch.tensor(ts[..1]));
        x = ReferenceInputs.LoopA(scheduler, 10, x, generator: null, only: ts);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(269.2187, s, 1e-2);
        Assert.Equal(0.3505, m, 1e-3);
    }

    public static IEnumerable<object[]> GoldenCases() => DpmPp2SGolden.Cases("singlestep");

    /// <summary>tests/golden/make_dpmpp_2s_golden.py's restatement of diffusers (checked there against the values above), over the other keys.</summary>
    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void LoopMatchesTheRestatementOfDiffusers(int index)
    {
        using var scope = torch.NewDisposeScope();
        var e = DpmPp2SGolden.Case("singlestep", index);
        var config = e.GetProperty("config").GetRawText();
        var scheduler = Schedulers.Create(Name, config);
        int steps = e.GetProperty("steps").GetInt32(), start = e.GetProperty("start").GetInt32();
        var all = scheduler.Begin(steps).Timesteps.data<long>().ToArray();
        Assert.Equal(e.GetProperty("timesteps").EnumerateArray().Select(v => (long)v.GetDouble()), all);
        var ts = all[start..];
        var x = e.GetProperty("noisy").GetBoolean()
            ? scheduler.AddNoise(ReferenceInputs.SampleDeter(), ReferenceInputs.NoiseDeter(), torch.tensor(ts[..1]))
            : ReferenceInputs.SampleDeter();
        using var g = e.GetProperty("seed").ValueKind == JsonValueKind.Null ? null : new torch.Generator((ulong)e.GetProperty("seed").GetInt32());
        x = ReferenceInputs.LoopA(scheduler, steps, x, g, only: ts);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.True(Math.Abs(e.GetProperty("sum").GetDouble() - s) < 2e-3, $"{config}: sum {s}, expected {e.GetProperty("sum").GetDouble()}");
        Assert.Equal(e.GetProperty("mean").GetDouble(), m, 1e-3);
        DpmPp2SGolden.AssertSlice(e, x, 1e-4);
    }

    /// <summary>
    /// The exact eps of data N(0.5, 0.5^2) (E[x_0 | x_t] in closed form at the integer timestep's abar) drives every
    /// order and algorithm to that Gaussian. The SDE runs under-disperse and converge slowly (a block's intermediate
    /// points carry noise independent of its final draw; first order is 9% narrow at 60 steps), so they get 250 steps
    /// and 8%. sde-dpmsolver++'s third-order heun step is in the list: with diffusers' D2 weight (the sign of its 1/2
    /// flipped) the standard deviation comes out near 3.5 instead of 0.5.
    /// </summary>
    [Theory]
    [InlineData("""{"solver_order": 2}""", 60, 0.03)]
    [InlineData("""{"solver_order": 3, "solver_type": "heun", "final_sigmas_type": "sigma_min"}""", 60, 0.03)]
    [InlineData("""{"solver_order": 3, "algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"}""", 60, 0.03)]
    [InlineData("""{"solver_order": 2, "algorithm_type": "sde-dpmsolver++", "use_karras_sigmas": true}""", 250, 0.08)]
    [InlineData("""{"solver_order": 3, "algorithm_type": "sde-dpmsolver++", "solver_type": "heun"}""", 250, 0.08)]
    public void ExactScoreLandsOnTheGaussian(string json, int steps, double stdTolerance)
    {
        const double mu = 0.5, s = 0.5;
        var scheduler = Schedulers.Create(Name, json);
        var abar = Diffuse.Schedules.NoiseSchedule.FromConfig(scheduler.Config).AlphasCumprod;
        torch.Tensor Eps(torch.Tensor x, torch.Tensor t)
        {
            double a = abar[t[0].item<long>()], q = Math.Sqrt(a);
            var x0 = (x - q * mu) * (s * s * q / (a * s * s + 1 - a)) + mu;
            return (x - x0 * q) / Math.Sqrt(1 - a);
        }
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(5);
        var x = Diffuse.Pipelines.SamplingLoop.Run(Eps, scheduler, steps, [20000, 1], g);
        double mean = x.mean().item<float>(), std = x.std().item<float>();
        Assert.True(Math.Abs(mean - mu) < 0.02 && Math.Abs(std - s) < stdTolerance * s, $"{json}: mean {mean}, std {std}");
    }

    [Theory]
    [InlineData(10, 2, false, false, new[] { 1, 2, 1, 2, 1, 2, 1, 2, 1, 2 })]
    [InlineData(10, 2, true, false, new[] { 1, 2, 1, 2, 1, 2, 1, 2, 1, 1 })]
    [InlineData(9, 2, true, false, new[] { 1, 2, 1, 2, 1, 2, 1, 2, 1 })]
    [InlineData(9, 3, false, false, new[] { 1, 2, 3, 1, 2, 3, 1, 2, 3 })]
    [InlineData(9, 3, true, false, new[] { 1, 2, 3, 1, 2, 3, 1, 2, 1 })]
    [InlineData(10, 3, true, false, new[] { 1, 2, 3, 1, 2, 3, 1, 2, 3, 1 })]
    [InlineData(11, 3, true, true, new[] { 1, 2, 3, 1, 2, 3, 1, 2, 3, 1, 1 })]
    [InlineData(3, 3, true, false, new[] { 1, 2, 1 })]
    [InlineData(2, 3, true, true, new[] { 1, 1 })]
    [InlineData(1, 2, true, true, new[] { 1 })]
    [InlineData(4, 1, true, false, new[] { 1, 1, 1, 1 })]
    public void OrderListIsDiffusers(int n, int order, bool lowerFinal, bool endsAtZero, int[] expected) =>
        Assert.Equal(expected, DpmSolverSinglestepScheduler.OrderList(n, order, lowerFinal, endsAtZero));

    [Theory]
    [InlineData(PredictionType.Epsilon, AlgorithmType.DpmsolverPlusPlus)]
    [InlineData(PredictionType.VPrediction, AlgorithmType.DpmsolverPlusPlus)]
    [InlineData(PredictionType.Sample, AlgorithmType.Dpmsolver)]
    public void FirstOrderIsTheMultistepFirstOrder(PredictionType type, AlgorithmType algorithm)
    {
        // With solver_order 1 both solvers take DPM-Solver-1 / DPM-Solver++(1) (DDIM) steps on the same schedule.
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { PredictionType = type, AlgorithmType = algorithm, SolverOrder = 1, FinalSigmasType = FinalSigmasType.SigmaMin };
        var single = ReferenceInputs.DeterministicLoopA(Name, config);
        var multi = ReferenceInputs.DeterministicLoopA("dpmpp_2m", config);
        Assert.True(torch.allclose(single, multi, rtol: 0, atol: 0));
    }

    [Fact]
    public void SecondOrderBlocksDifferFromMultistep()
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { FinalSigmasType = FinalSigmasType.SigmaMin, LowerOrderFinal = false };
        Assert.False(torch.allclose(ReferenceInputs.DeterministicLoopA(Name, config), ReferenceInputs.DeterministicLoopA("dpmpp_2m", config), rtol: 0, atol: 1e-4));
    }

    [Fact]
    public void LowerOrderFinalDefaultsToFalse()
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { FinalSigmasType = FinalSigmasType.SigmaMin };
        var byDefault = ReferenceInputs.DeterministicLoopA(Name, config);
        Assert.True(torch.allclose(byDefault, ReferenceInputs.DeterministicLoopA(Name, config with { LowerOrderFinal = false }), rtol: 0, atol: 0));
        Assert.False(torch.allclose(byDefault, ReferenceInputs.DeterministicLoopA(Name, config with { LowerOrderFinal = true }), rtol: 0, atol: 1e-4));
    }

    [Theory]
    [InlineData("""{"solver_order": 4}""", "solver_order")]
    [InlineData("""{"solver_type": "bh2"}""", "solver_type")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min"}""", "algorithm_type")]
    [InlineData("""{"algorithm_type": "dpmsolver"}""", "final_sigmas_type")]
    [InlineData("""{"lambda_min_clipped": "NaN"}""", "lambda_min_clipped")]
    [InlineData("""{"use_karras_sigmas": true, "use_exponential_sigmas": true}""", "use_karras_sigmas")]
    [InlineData("""{"dynamic_thresholding_ratio": 1.5}""", "dynamic_thresholding_ratio")]
    public void BadValuesAreOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LambdaMinClippedShortensTheCosineSchedule()
    {
        // lambda at t = 999 of squaredcos_cap_v2 is far below -5.1, so the linspace ends earlier, as diffusers' searchsorted clip.
        var config = new SchedulerConfig { BetaSchedule = BetaSchedule.SquaredcosCapV2 };
        var full = Schedulers.Create(Name, config).Begin(10).Timesteps.data<long>().ToArray();
        var clipped = Schedulers.Create(Name, config with { LambdaMinClipped = -5.1 }).Begin(10).Timesteps.data<long>().ToArray();
        Assert.Equal(999, full[0]);
        Assert.InRange(clipped[0], 900, 998);
        // diffusers' multistep solver clips the same way.
        Assert.Equal(clipped, Schedulers.Create("dpmpp_2m", config with { LambdaMinClipped = -5.1 }).Begin(10).Timesteps.data<long>().ToArray());
        Assert.Contains("trailing", Assert.Throws<DiffuseException>(() =>
            Schedulers.Create(Name, config with { LambdaMinClipped = -5.1, TimestepSpacing = TimestepSpacing.Trailing }).Begin(10)).Message);
    }

    [Fact]
    public void StepsMustFollowTheRunsTimesteps()
    {
        using var scope = torch.NewDisposeScope();
        var run = Schedulers.Create(Name, "").Begin(10);
        var x = ReferenceInputs.SampleDeter();
        run.Step(x, torch.tensor(999L), x, null);
        Assert.Contains("899", Assert.Throws<DiffuseException>(() => run.Step(x, torch.tensor(799L), x, null)).Message);
    }
}

/// <summary>tests/golden/dpmpp_2s.json, written by tests/golden/make_dpmpp_2s_golden.py (PyTorch), found from the test binary upwards.</summary>
internal static class DpmPp2SGolden
{
    private static readonly Lazy<JsonElement> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "tests", "golden", "dpmpp_2s.json"))) dir = dir.Parent;
        return JsonDocument.Parse(File.ReadAllText(Path.Combine(dir?.FullName ?? throw new FileNotFoundException("tests/golden/dpmpp_2s.json"), "tests", "golden", "dpmpp_2s.json"))).RootElement.Clone();
    });

    public static IEnumerable<object[]> Cases(string section) => Enumerable.Range(0, Root.Value.GetProperty(section).GetArrayLength()).Select(i => new object[] { i });

    public static JsonElement Case(string section, int index) => Root.Value.GetProperty(section)[index];

    /// <summary>Every 97th value of the flattened sample, as the script wrote them.</summary>
    public static void AssertSlice(JsonElement e, torch.Tensor x, double atol)
    {
        var expected = e.GetProperty("slice").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var actual = x.flatten().data<float>().Where((_, k) => k % 97 == 0).Select(v => (double)v).ToArray();
        Assert.Equal(expected.Length, actual.Length);
        for (var k = 0; k < expected.Length; k++) Assert.True(Math.Abs(expected[k] - actual[k]) <= atol * Math.Max(1, Math.Abs(expected[k])), $"slice[{k}]: {actual[k]}, expected {expected[k]}");
    }
}
