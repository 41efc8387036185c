using Diffuse.Configuration;
using Diffuse.Sampling;
using Diffuse.Schedules;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DpmPp2SAncestralSchedulerTests : SigmaSchedulerContractTests<DpmPp2SAncestralScheduler>
{
    protected override string Name => "dpmpp_2s_ancestral";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000 };

    public static IEnumerable<object[]> GoldenCases() => DpmPp2SGolden.Cases("ancestral");

    /// <summary>
    /// A pipeline loop (the unscaled sample goes to Step) against tests/golden/make_dpmpp_2s_golden.py's restatement
    /// of k-diffusion's <c>sample_dpmpp_2s_ancestral</c>, with the same noise: one draw per step from one generator,
    /// after the step's second model call, none on the last. The model is eps = f(x / sqrt(sigma^2 + 1)) with
    /// f(u) = 0.8 u + 0.3 sin 3u, read as each prediction type.
    /// </summary>
    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void LoopMatchesKDiffusion(int index)
    {
        using var scope = torch.NewDisposeScope();
        var e = DpmPp2SGolden.Case("ancestral", index);
        var config = new SchedulerConfig
        {
            PredictionType = Json(e.GetProperty("prediction_type").GetString()!),
            UseKarrasSigmas = e.GetProperty("use_karras_sigmas").GetBoolean(),
        };
        var run = Schedulers.Create(Name, config).Begin(e.GetProperty("steps").GetInt32());
        var ts = run.Timesteps.data<float>().ToArray();
        var expectedTs = e.GetProperty("timesteps").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(expectedTs.Length, ts.Length);
        for (var k = 0; k < ts.Length; k++) Assert.True(Math.Abs(expectedTs[k] - ts[k]) < 2e-3, $"timestep {k}: {ts[k]}, expected {expectedTs[k]}");
        using var g = new torch.Generator((ulong)e.GetProperty("seed").GetInt32());
        var x = (ReferenceInputs.SampleDeter() * 2 - 1) * run.InitNoiseSigma;
        for (var k = 0; k < ts.Length; k++)
        {
            using var stepScope = torch.NewDisposeScope();
            var t = run.Timesteps[k];
            var u = run.ScaleModelInput(x, t);
            var output = u * 0.8 + (u * 3).sin() * 0.3;
            x = run.Step(output, t, x, g).PrevSample.MoveToOuterDisposeScope();
        }
        var (s, m) = ReferenceInputs.SumMeanAbs(x);
        Assert.True(Math.Abs(e.GetProperty("sum").GetDouble() - s) < 2e-3, $"sum {s}, expected {e.GetProperty("sum").GetDouble()}");
        Assert.Equal(e.GetProperty("mean").GetDouble(), m, 1e-4);
        DpmPp2SGolden.AssertSlice(e, x, 1e-4);
    }

    private static PredictionType Json(string name) => Diffuse.IO.Json.ParseEnum<PredictionType>(name, "prediction type");

    [Fact]
    public void MidpointsAreTheLogMeanOfSigmaAndSigmaDown()
    {
        // sigma_down = sigma_{i+1}^2 / sigma_i at eta 1, so sqrt(sigma_i sigma_down) = sigma_{i+1}: each midpoint sits on the next step.
        var ts = Schedulers.Create(Name, new SchedulerConfig()).Begin(5).Timesteps.data<float>().ToArray();
        Assert.Equal(9, ts.Length);
        for (var k = 1; k < ts.Length; k += 2) Assert.Equal(ts[k + 1], ts[k], 0.05);
        Assert.Equal(0f, ts[^1]);
    }

    [Fact]
    public void OneDrawPerStepButTheLast()
    {
        // A 4-step run consumes 3 draws; the generator then gives the 4th draw of a fresh generator of the same seed.
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(7);
        ReferenceInputs.LoopB(Schedulers.Create(Name, new SchedulerConfig()), 4, ReferenceInputs.SampleDeter(), g);
        using var fresh = new torch.Generator(7);
        for (var k = 0; k < 3; k++) torch.randn(new long[] { 4, 3, 8, 8 }, generator: fresh);
        Assert.True(torch.allclose(torch.randn(new long[] { 4, 3, 8, 8 }, generator: fresh), torch.randn(new long[] { 4, 3, 8, 8 }, generator: g), rtol: 0, atol: 0));
    }

    [Fact]
    public void WithoutNoiseAStepIsDpmSolverPlusPlus2S()
    {
        // A perfect x_0 oracle D = c makes one step exact: x_i to sigma_down is sigma_down / sigma_i x_i + (1 - sigma_down / sigma_i) c,
        // then + sigma_up z; so the deterministic part equals the closed form of the data-prediction ODE.
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var run = Schedulers.Create(Name, new SchedulerConfig { PredictionType = PredictionType.Sample }).Begin(3);
        var x = torch.full(new long[] { 1, 1, 2, 2 }, 50f);
        var c = torch.full(new long[] { 1, 1, 2, 2 }, 0.25f);
        var first = run.Step(c, run.Timesteps[0], x, g).PrevSample;
        var afterSecond = run.Step(c, run.Timesteps[1], first, g).PrevSample;
        using var replay = new torch.Generator(0);
        var z = torch.randn(new long[] { 1, 1, 2, 2 }, generator: replay);
        double s0 = EulerSigma(3, 0), s1 = EulerSigma(3, 1); // the same linspace sigmas
        var (down, up) = SigmaSchedules.AncestralSplit(s0, s1);
        var expected = x * (down / s0) + c * (1 - down / s0) + z * up;
        Assert.True(torch.allclose(expected, afterSecond, rtol: 1e-5, atol: 1e-4), $"{afterSecond[0, 0, 0, 0].item<float>()} vs {expected[0, 0, 0, 0].item<float>()}");
    }

    private static double EulerSigma(int steps, int k)
    {
        // A fresh Euler run entered at its k-th timestep scales the input by 1 / sqrt(sigma_k^2 + 1): read sigma_k back from that.
        var run = Schedulers.Create("euler", new SchedulerConfig()).Begin(steps);
        using var scale = run.ScaleModelInput(torch.ones(1, torch.float64), run.Timesteps[k]);
        var a = scale.item<double>();
        return Math.Sqrt(1 / (a * a) - 1);
    }

    [Fact]
    public void StartingAtAMidpointIsRefused()
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        // Karras timesteps are rounded and the midpoints are not, so a midpoint is never also a step's timestep.
        var run = Schedulers.Create(Name, new SchedulerConfig { UseKarrasSigmas = true }).Begin(4);
        var x = ReferenceInputs.SampleDeter();
        Assert.Contains("midpoint", Assert.Throws<DiffuseException>(() => run.Step(x, run.Timesteps[1], x, g)).Message);
    }
}
