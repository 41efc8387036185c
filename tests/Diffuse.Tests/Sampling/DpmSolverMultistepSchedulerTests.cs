using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class DpmSolverMultistepSchedulerTests : SchedulerContractTests<DpmSolverMultistepScheduler>
{
    protected override string Name => "dpmpp_2m";
    protected override SchedulerConfig StochasticConfig => new() { NumTrainTimesteps = 1000, AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus };

    [Theory]
    [InlineData("""{"solver_order": 4}""", "solver_order")]
    [InlineData("""{"solver_order": 0}""", "solver_order")]
    [InlineData("""{"solver_type": "bh1"}""", "solver_type")]
    [InlineData("""{"algorithm_type": "dpmsolver"}""", "final_sigmas_type")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min", "solver_order": 3}""", "sde-dpmsolver")]
    [InlineData("""{"use_karras_sigmas": true, "use_exponential_sigmas": true}""", "use_karras_sigmas")]
    [InlineData("""{"dynamic_thresholding_ratio": 0}""", "dynamic_thresholding_ratio")]
    public void BadValuesAreOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NullSolverTypeIsMidpoint()
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { FinalSigmasType = FinalSigmasType.SigmaMin, LowerOrderFinal = false };
        var byDefault = ReferenceInputs.DeterministicLoopA(Name, config);
        var midpoint = ReferenceInputs.DeterministicLoopA(Name, config with { SolverType = SolverType.Midpoint });
        var heun = ReferenceInputs.DeterministicLoopA(Name, config with { SolverType = SolverType.Heun });
        Assert.True(torch.allclose(byDefault, midpoint, rtol: 0, atol: 0));
        Assert.False(torch.allclose(byDefault, heun, rtol: 0, atol: 1e-6));
    }

    public static TheoryData<string> Variants => new()
    {
        """{"solver_order": 1}""", """{"solver_order": 3}""", """{"solver_type": "heun"}""", """{"solver_order": 3, "lower_order_final": false}""",
        """{"algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"}""", """{"algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min", "solver_order": 3}""",
        """{"use_karras_sigmas": true}""", """{"use_exponential_sigmas": true}""", """{"thresholding": true}""", """{"thresholding": true, "algorithm_type": "dpmsolver", "final_sigmas_type": "sigma_min"}""",
        """{"euler_at_final": true}""",
        """{"prediction_type": "v_prediction"}""", """{"prediction_type": "sample"}""", """{"timestep_spacing": "leading"}""",
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void EveryOptionRunsAFiniteLoop(string json)
    {
        using var scope = torch.NewDisposeScope();
        var x = ReferenceInputs.DeterministicLoopA(Name, json);
        Assert.True(x.isfinite().all().item<bool>(), json);
    }

    [Theory]
    [InlineData("""{"algorithm_type": "sde-dpmsolver++", "solver_type": "heun"}""")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver++", "solver_order": 3, "lower_order_final": false}""")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min"}""")]
    [InlineData("""{"algorithm_type": "sde-dpmsolver", "final_sigmas_type": "sigma_min", "solver_type": "heun", "use_karras_sigmas": true}""")]
    public void StochasticOptionsRunAFiniteLoop(string json)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var x = ReferenceInputs.LoopA(Schedulers.Create(Name, json), 10, ReferenceInputs.SampleDeter(), g);
        Assert.True(x.isfinite().all().item<bool>(), json);
    }

    [Theory]
    [InlineData("dpmpp_2m_sde", 2)]
    [InlineData("dpmpp_3m_sde", 3)]
    public void SdeAliasesSetAlgorithmAndOrder(string alias, int order)
    {
        var scheduler = Schedulers.Create(alias, "");
        Assert.Equal(alias, scheduler.Name);
        Assert.Equal(AlgorithmType.SdeDpmsolverPlusPlus, scheduler.Config.AlgorithmType);
        Assert.Equal(order, scheduler.Config.SolverOrder);
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var x = ReferenceInputs.LoopA(scheduler, 10, ReferenceInputs.SampleDeter(), g);
        Assert.True(x.isfinite().all().item<bool>());
        Assert.Contains(alias, Assert.Throws<DiffuseException>(() => ReferenceInputs.LoopA(scheduler, 10, ReferenceInputs.SampleDeter(), null)).Message);
    }

    [Fact]
    public void StepsMustFollowTheRunsTimesteps()
    {
        using var scope = torch.NewDisposeScope();
        var run = Schedulers.Create(Name, "").Begin(10);
        var x = ReferenceInputs.SampleDeter();
        Assert.Contains("501", Assert.Throws<DiffuseException>(() => run.Step(x, torch.tensor(501L), x, null)).Message);
        run.Step(x, torch.tensor(999L), x, null);
        Assert.Contains("899", Assert.Throws<DiffuseException>(() => run.Step(x, torch.tensor(999L), x, null)).Message);
    }

    [Theory]
    [InlineData(PredictionType.Epsilon, AlgorithmType.DpmsolverPlusPlus)]
    [InlineData(PredictionType.Sample, AlgorithmType.DpmsolverPlusPlus)]
    [InlineData(PredictionType.VPrediction, AlgorithmType.DpmsolverPlusPlus)]
    [InlineData(PredictionType.Epsilon, AlgorithmType.Dpmsolver)]
    [InlineData(PredictionType.VPrediction, AlgorithmType.Dpmsolver)]
    public void FirstOrderDpmSolverIsDdim(PredictionType type, AlgorithmType algorithm)
    {
        // DPM-Solver-1 and DPM-Solver++(1) are DDIM (Lu et al. 2022, arXiv:2206.00927 Sec. 4.1, arXiv:2211.01095
        // Sec. 4.1); trailing timesteps are the same for both, and the final sigma (0 or sigma_min) is DDIM's last
        // abar (1 with set_alpha_to_one, else abar_0).
        using var scope = torch.NewDisposeScope();
        var toZero = algorithm == AlgorithmType.DpmsolverPlusPlus;
        var config = new SchedulerConfig { PredictionType = type, TimestepSpacing = TimestepSpacing.Trailing, ClipSample = false, SetAlphaToOne = toZero };
        var ddim = ReferenceInputs.DeterministicLoopA("ddim", config);
        var dpmConfig = config with
        {
            SolverOrder = 1, AlgorithmType = algorithm, FinalSigmasType = toZero ? FinalSigmasType.Zero : FinalSigmasType.SigmaMin,
        };
        var dpm = ReferenceInputs.DeterministicLoopA(Name, dpmConfig);
        Assert.True(torch.allclose(ddim, dpm, rtol: 1e-4, atol: 1e-5), $"max difference {(ddim - dpm).abs().max().item<float>()}");
    }

    [Fact]
    public void MultistepTimestepsMatchDiffusers()
    {
        // np.linspace(0, 999, 11).round()[::-1][:-1]; leading 1000 // 11 = 90 apart; trailing as DDIM's.
        Assert.Equal(new long[] { 999, 899, 799, 699, 599, 500, 400, 300, 200, 100 }, MultistepTimesteps(TimestepSpacing.Linspace));
        Assert.Equal(new long[] { 900, 810, 720, 630, 540, 450, 360, 270, 180, 90 }, MultistepTimesteps(TimestepSpacing.Leading));
        Assert.Equal(new long[] { 999, 899, 799, 699, 599, 499, 399, 299, 199, 99 }, MultistepTimesteps(TimestepSpacing.Trailing));
    }

    private long[] MultistepTimesteps(TimestepSpacing spacing) =>
        Schedulers.Create(Name, new SchedulerConfig { TimestepSpacing = spacing }).Begin(10).Timesteps.data<long>().ToArray();

    [Fact]
    public void DynamicThresholdingClampsToTheQuantile()
    {
        using var scope = torch.NewDisposeScope();
        var x0 = torch.tensor(new float[] { 0.5f, -3f, 2f, 0.1f, 0.2f, -0.3f, 0.4f, 0.9f }).reshape(2, 4);
        var y = StepMath.DynamicThreshold(x0, 1.0, 2.5);
        // Row 0: s = clamp(3, 1, 2.5) = 2.5; row 1: s = clamp(0.9, 1, 2.5) = 1.
        var expected = torch.tensor(new float[] { 0.2f, -1f, 0.8f, 0.04f, 0.2f, -0.3f, 0.4f, 0.9f }).reshape(2, 4);
        Assert.True(torch.allclose(expected, y, rtol: 1e-6, atol: 1e-6));
    }
}

public class DpmSolverPp2MSdeTests : SchedulerContractTests<DpmSolverMultistepScheduler>
{
    protected override string Name => "dpmpp_2m_sde";
    protected override SchedulerConfig Config => new() { AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus, SolverOrder = 2 };
    protected override SchedulerConfig StochasticConfig => Config;
}

public class DpmSolverPp3MSdeTests : SchedulerContractTests<DpmSolverMultistepScheduler>
{
    protected override string Name => "dpmpp_3m_sde";
    protected override SchedulerConfig Config => new() { AlgorithmType = AlgorithmType.SdeDpmsolverPlusPlus, SolverOrder = 3 };
    protected override SchedulerConfig StochasticConfig => Config;
}
