using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DeisMultistepSchedulerTests : SchedulerContractTests<DeisMultistepScheduler>
{
    protected override string Name => "deis";

    protected override SchedulerConfig? StochasticConfig => null; // DEIS never draws noise

    // DEIS always ends at the smallest training sigma, 0.01 here (diffusers has no final_sigmas_type zero for it),
    // so a perfect predictor ends 0.01 eps from x_0; PerfectPredictorEndsAtTheSmallestSigma checks that exactly.
    protected override double FinalTolerance => 0.05;

    /// <summary>diffusers' test_scheduler_deis full loops: 10 steps, linear 1e-4..0.02, solver_order 2.</summary>
    [Theory]
    [InlineData("{}", 0.23916)]
    [InlineData("""{"prediction_type": "v_prediction"}""", 0.091)]
    public void FullLoopMatchesDiffusers(string json, double mean)
    {
        using var scope = torch.NewDisposeScope();
        Assert.Equal(mean, ReferenceInputs.SumMeanAbs(ReferenceInputs.DeterministicLoopA(Name, json)).Mean, 1e-3);
    }

    [Fact]
    public void FullLoopWithNoiseMatchesDiffusers()
    {
        using var scope = torch.NewDisposeScope();
        var scheduler = Schedulers.Create(Name, "{}");
        var ts = scheduler.Begin(10).Timesteps.data<long>().Skip(8).ToArray();
        var x = scheduler.AddNoise(ReferenceInputs.SampleDeter(), ReferenceInputs.NoiseDeter(), torch.tensor(ts[..1]));
        x = ReferenceInputs.LoopA(scheduler, 10, x, generator: null, only: ts);
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.Equal(315.3016, s, 1e-2);
        Assert.Equal(0.41054, m, 1e-3);
    }

    /// <summary>diffusers' test_switch: the DPM-Solver and UniPC algorithm and solver names are read as DEIS's own.</summary>
    [Theory]
    [InlineData("""{"algorithm_type": "dpmsolver++", "solver_type": "midpoint"}""")]
    [InlineData("""{"algorithm_type": "dpmsolver", "solver_type": "heun"}""")]
    [InlineData("""{"algorithm_type": "deis", "solver_type": "bh2"}""")]
    [InlineData("""{"algorithm_type": "deis", "solver_type": "logrho"}""")]
    public void OtherSolversNamesAreReadAsDeis(string json)
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.DeterministicLoopA(Name, json);
        Assert.True(torch.allclose(ReferenceInputs.DeterministicLoopA(Name, "{}"), x, rtol: 0, atol: 0));
        Assert.Equal(0.23916, ReferenceInputs.SumMeanAbs(x).Mean, 1e-3);
    }

    [Theory]
    [InlineData("""{"solver_order": 4}""", "solver_order")]
    [InlineData("""{"solver_order": 0}""", "solver_order")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver++"}""", "algorithm_type")]
    [InlineData("""{"final_sigmas_type": "zero"}""", "final_sigmas_type")]
    [InlineData("""{"use_karras_sigmas": true, "use_exponential_sigmas": true}""", "use_karras_sigmas")]
    [InlineData("""{"dynamic_thresholding_ratio": 0}""", "dynamic_thresholding_ratio")]
    public void BadValuesAreOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void DeisIsNotADpmSolverAlgorithm()
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create("dpmpp_2m", """{"algorithm_type": "deis"}"""));
        Assert.Contains("algorithm_type", e.Message);
    }

    [Fact]
    public void OrderOneIsDdimOnTheSameTimesteps()
    {
        // First-order DEIS is deterministic DDIM (Song et al. 2021, Eq. 12 with sigma 0), ending at abar_0.
        using var scope = torch.NewDisposeScope();
        var deis = Schedulers.Create(Name, """{"solver_order": 1}""");
        var ts = deis.Begin(10).Timesteps.data<long>().ToArray();
        var x = ReferenceInputs.LoopA(deis, 10, ReferenceInputs.SampleDeter(), null);
        var abar = NoiseSchedule.FromConfig(deis.Config).AlphasCumprod;
        var y = ReferenceInputs.SampleDeter();
        for (var i = 0; i < ts.Length; i++)
        {
            double a = abar[ts[i]], aPrev = abar[i + 1 < ts.Length ? ts[i + 1] : 0];
            var eps = ReferenceInputs.Model(y, ts[i]);
            y = (y - eps * Math.Sqrt(1 - a)) / Math.Sqrt(a) * Math.Sqrt(aPrev) + eps * Math.Sqrt(1 - aPrev);
        }
        Assert.True(torch.allclose(x, y, rtol: 1e-4, atol: 1e-5), $"max difference {(x - y).abs().max().item<float>()}");
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"solver_order": 3, "lower_order_final": false, "prediction_type": "v_prediction"}""")]
    [InlineData("""{"use_karras_sigmas": true, "prediction_type": "sample"}""")]
    public void PerfectPredictorEndsAtTheSmallestSigma(string json)
    {
        // With x_0 exact, the ODE keeps eps fixed: x_t = alpha_t x_0 + sigma_t eps, and the run ends at t = 0.
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(3);
        var scheduler = Schedulers.Create(Name, json);
        var type = scheduler.Config.PredictionType;
        var abar = NoiseSchedule.FromConfig(scheduler.Config).AlphasCumprod;
        var target = torch.rand(new long[] { 2, 3, 4, 4 }, generator: g) * 1.8 - 0.9;
        var eps = torch.randn(target.shape, generator: g);
        var run = scheduler.Begin(10);
        var ts = run.Timesteps.data<long>().ToArray();
        var x = target * Math.Sqrt(abar[ts[0]]) + eps * Math.Sqrt(1 - abar[ts[0]]);
        foreach (var t in ts)
            x = run.Step(GaussianDiffusion.Convert(PredictionType.Sample, type, target, x, abar[t]), torch.tensor(t), x, null).PrevSample;
        var expected = target * Math.Sqrt(abar[0]) + eps * Math.Sqrt(1 - abar[0]);
        Assert.True(torch.allclose(expected, x, rtol: 0, atol: 1e-4), $"max error {(expected - x).abs().max().item<float>()}");
    }

    private static readonly Lazy<System.Text.Json.JsonElement> Golden = new(() => Diffuse.Tests.Golden.GoldenFile.Load("deis.json"));

    public static IEnumerable<object[]> GoldenLoops => Enumerable.Range(0, Golden.Value.GetProperty("loops").GetArrayLength()).Select(i => new object[] { i });

    /// <summary>Configs diffusers' tests do not cover, against tests/golden/make_deis_golden.py (a PyTorch restatement of diffusers, checked there against diffusers' asserted values).</summary>
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
        """{"solver_order": 1}""", """{"solver_order": 3}""", """{"solver_order": 3, "lower_order_final": false}""",
        """{"use_karras_sigmas": true}""", """{"use_exponential_sigmas": true}""", """{"thresholding": true, "prediction_type": "sample", "sample_max_value": 0.5}""",
        """{"prediction_type": "sample", "solver_order": 3}""", """{"timestep_spacing": "leading", "steps_offset": 1}""", """{"timestep_spacing": "trailing"}""",
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
