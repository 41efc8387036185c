using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class UniPcMultistepSchedulerTests : SchedulerContractTests<UniPcMultistepScheduler>
{
    protected override string Name => "unipc";

    protected override SchedulerConfig? StochasticConfig => null; // UniPC never draws noise

    [Theory]
    [InlineData("""{"solver_order": 4}""", "solver_order")]
    [InlineData("""{"solver_type": "midpoint"}""", "solver_type")]
    [InlineData("""{"solver_type": "heun"}""", "solver_type")]
    [InlineData("""{"lower_order_final": false}""", "final_sigmas_type")]
    [InlineData("""{"use_karras_sigmas": true, "use_exponential_sigmas": true}""", "use_karras_sigmas")]
    public void BadValuesAreOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void NullSolverTypeIsBh2()
    {
        using var scope = torch.NewDisposeScope();
        var config = new SchedulerConfig { FinalSigmasType = FinalSigmasType.SigmaMin };
        var byDefault = ReferenceInputs.DeterministicLoopA(Name, config);
        var bh2 = ReferenceInputs.DeterministicLoopA(Name, config with { SolverType = SolverType.Bh2 });
        var bh1 = ReferenceInputs.DeterministicLoopA(Name, config with { SolverType = SolverType.Bh1 });
        Assert.True(torch.allclose(byDefault, bh2, rtol: 0, atol: 0));
        Assert.False(torch.allclose(byDefault, bh1, rtol: 0, atol: 1e-6));
    }

    public static TheoryData<string> Variants => new()
    {
        """{"solver_order": 1}""", """{"solver_order": 3}""", """{"solver_order": 3, "lower_order_final": false, "final_sigmas_type": "sigma_min"}""",
        """{"solver_type": "bh1"}""", """{"lower_order_final": false, "solver_order": 1}""", """{"use_karras_sigmas": true}""", """{"use_exponential_sigmas": true}""", """{"thresholding": true}""",
        """{"prediction_type": "v_prediction"}""", """{"prediction_type": "sample"}""", """{"timestep_spacing": "trailing"}""",
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
