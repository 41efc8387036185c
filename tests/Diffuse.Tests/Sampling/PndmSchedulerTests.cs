using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class PndmSchedulerTests : SchedulerContractTests<PndmScheduler>
{
    protected override string Name => "pndm";

    // The Runge-Kutta warm-up needs four steps, so the contract (which runs one-step loops) uses PLMS; the
    // warm-up has its own tests below. abar = 1 at the end, so that a perfect predictor lands on x_0.
    protected override SchedulerConfig Config => new() { NumTrainTimesteps = 1000, SkipPrkSteps = true, SetAlphaToOne = true };

    // PLMS repeats the second timestep (its pseudo-Heun first step).
    protected override int TimestepCount(int steps, int order) => steps == 1 ? 1 : steps + 1;


    protected override PredictionType[] InexactPredictionTypes => [PredictionType.VPrediction];

    /// <summary>diffusers' test_scheduler_pndm full loops: PRK then PLMS over 10 steps, linear 1e-4..0.02 unless changed.</summary>
    [Theory]
    [InlineData("{}", 198.1318, 0.2580)]
    [InlineData("""{"prediction_type": "v_prediction"}""", 67.3986, 0.0878)]
    [InlineData("""{"set_alpha_to_one": true, "beta_start": 0.01}""", 230.0399, 0.2995)]
    [InlineData("""{"set_alpha_to_one": false, "beta_start": 0.01}""", 186.9482, 0.2434)]
    public void FullLoopMatchesDiffusers(string json, double sum, double mean)
    {
        using var scope = torch.NewDisposeScope();
        var (s, m) = ReferenceInputs.SumMeanAbs(ReferenceInputs.DeterministicLoopA(Name, json));
        Assert.Equal(sum, s, 1e-2);
        Assert.Equal(mean, m, 1e-3);
    }

    [Fact]
    public void SetAlphaToOneIsOffByDefaultAsInDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var byDefault = ReferenceInputs.DeterministicLoopA(Name, """{"beta_start": 0.01}""");
        Assert.Equal(186.9482, ReferenceInputs.SumMeanAbs(byDefault).Sum, 1e-2);
    }

    [Fact]
    public void TimestepsWithStepsOffsetMatchDiffusers()
    {
        var run = Schedulers.Create(Name, """{"steps_offset": 1}""").Begin(10);
        Assert.Equal([901, 851, 851, 801, 801, 751, 751, 701, 701, 651, 651, 601, 601, 501, 401, 301, 201, 101, 1], run.Timesteps.data<long>().ToArray());
    }

    [Theory]
    [InlineData("leading", new long[] { 900, 800, 800, 700, 600, 500, 400, 300, 200, 100, 0 })]
    [InlineData("trailing", new long[] { 999, 899, 899, 799, 699, 599, 499, 399, 299, 199, 99 })]
    [InlineData("linspace", new long[] { 999, 888, 888, 777, 666, 555, 444, 333, 222, 111, 0 })]
    public void SkippingTheWarmUpRepeatsTheSecondTimestep(string spacing, long[] expected)
    {
        var run = Schedulers.Create(Name, $$"""{"skip_prk_steps": true, "timestep_spacing": "{{spacing}}"}""").Begin(10);
        Assert.Equal(expected, run.Timesteps.data<long>().ToArray());
    }

    [Fact]
    public void TheWarmUpOffsetsIgnoreTheSpacing()
    {
        // h = T / n / 2 = 125 is added to the spaced timesteps, whatever their spacing, as diffusers does.
        var run = Schedulers.Create(Name, """{"timestep_spacing": "trailing"}""").Begin(4);
        Assert.Equal([999, 874, 874, 749, 749, 624, 624, 499, 499, 374, 374, 249, 249], run.Timesteps.data<long>().ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TheWarmUpNeedsFourSteps(int steps)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, "{}").Begin(steps));
        Assert.Contains("skip_prk_steps", e.Message);
        Assert.Contains(steps.ToString(), e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(10)]
    [InlineData(50)]
    public void APerfectOriginalPredictorThroughTheWarmUpRecoversTheTarget(int steps)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(5);
        var config = new SchedulerConfig { SetAlphaToOne = true };
        var abar = NoiseSchedule.FromConfig(config).AlphasCumprod;
        var target = torch.rand(new long[] { 2, 3, 4, 4 }, generator: g) * 1.8 - 0.9;
        var run = Schedulers.Create(Name, config).Begin(steps);
        var x = torch.randn(target.shape, generator: g);
        foreach (var t in run.Timesteps.data<long>().ToArray())
        {
            var eps = GaussianDiffusion.Convert(PredictionType.Sample, PredictionType.Epsilon, target, x, abar[t]);
            x = run.Step(eps, torch.tensor(t), x, null).PrevSample;
        }
        Assert.True(torch.allclose(target, x, rtol: 0, atol: 1e-4), $"max error {(target - x).abs().max().item<float>()}");
    }

    [Fact]
    public void TheStepCountOfTheWarmUpIsThreeRungeKuttaGroupsOfFour()
    {
        var run = Schedulers.Create(Name, "{}").Begin(20);
        Assert.Equal(12 + 20 - 3, run.Timesteps.shape[0]);
        Assert.Equal(1, run.Order);
    }

    [Fact]
    public void AStepPastTheEndIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        var run = Schedulers.Create(Name, """{"skip_prk_steps": true}""").Begin(2);
        var x = ReferenceInputs.SampleDeter();
        foreach (var t in run.Timesteps.data<long>().ToArray()) x = run.Step(x * 0.5, torch.tensor(t), x, null).PrevSample;
        var e = Assert.Throws<DiffuseException>(() => run.Step(x, torch.tensor(0L), x, null));
        Assert.Contains("done", e.Message);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"skip_prk_steps": true}""")]
    public void ARunKeepsABoundedHistoryAndReleasesItAtTheEnd(string json)
    {
        var stats = DisposeScopeManager.Statistics;
        var run = Schedulers.Create(Name, json).Begin(30);
        var x = ReferenceInputs.SampleDeter().DetachFromDisposeScope();
        var before = stats.ThreadTotalLiveCount;
        foreach (var t in run.Timesteps.data<long>().ToArray())
        {
            using (var scope = torch.NewDisposeScope())
            {
                var next = run.Step(ReferenceInputs.Model(x, t), torch.tensor(t), x, null).PrevSample.DetachFromDisposeScope();
                x.Dispose();
                x = next;
            }
            Assert.InRange(stats.ThreadTotalLiveCount, before, before + 5); // four outputs and the anchor sample (or the RK sum)
        }
        Assert.Equal(before, stats.ThreadTotalLiveCount);
        x.Dispose();
    }

    private static readonly Lazy<System.Text.Json.JsonElement> Golden = new(() => Diffuse.Tests.Golden.GoldenFile.Load("pndm.json"));

    public static IEnumerable<object[]> GoldenLoops => Enumerable.Range(0, Golden.Value.GetProperty("loops").GetArrayLength()).Select(i => new object[] { i });

    /// <summary>Configs diffusers' tests do not cover, against tests/golden/make_pndm_golden.py (a PyTorch restatement of diffusers, checked there against diffusers' asserted values).</summary>
    [Theory]
    [MemberData(nameof(GoldenLoops))]
    public void LoopsMatchTheGoldenRestatementOfDiffusers(int index)
    {
        var g = Golden.Value.GetProperty("loops")[index];
        var run = Schedulers.Create(Name, g.GetProperty("config").GetRawText()).Begin(g.GetProperty("steps").GetInt32());
        Assert.Equal(g.GetProperty("timesteps").EnumerateArray().Select(v => v.GetInt64()), run.Timesteps.data<long>().ToArray());
        Diffuse.Tests.Golden.GoldenTests.LoopMatches(g);
    }

    public static TheoryData<string> Variants => new()
    {
        """{"skip_prk_steps": true}""", """{"skip_prk_steps": true, "prediction_type": "v_prediction", "timestep_spacing": "trailing"}""",
        """{"timestep_spacing": "linspace"}""", """{"beta_schedule": "squaredcos_cap_v2"}""",
        """{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012, "skip_prk_steps": true, "steps_offset": 1}""",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryOptionRunsAFiniteLoop(string json)
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.DeterministicLoopA(Name, json);
        Assert.True(x.isfinite().all().item<bool>(), json);
    }
}
