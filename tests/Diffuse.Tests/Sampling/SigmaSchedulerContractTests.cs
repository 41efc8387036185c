using Diffuse.Configuration;
using Diffuse.Sampling;
using TorchSharp;
using Xunit;

namespace Diffuse.Tests.Sampling;

/// <summary>The contract plus what every sigma-based scheduler adds: float timesteps and sigma options (prediction types: <see cref="PredictionTypeContractTests"/>).</summary>
public abstract class SigmaSchedulerContractTests<T> : SchedulerContractTests<T> where T : IScheduler
{
    [Theory]
    [InlineData("""{"use_karras_sigmas": true, "use_exponential_sigmas": true}""", "use_karras_sigmas")]
    [InlineData("""{"timestep_spacing": "sideways"}""", "timestep_spacing")]
    public void ABadValueIsOneLine(string json, string named)
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create(Name, json));
        Assert.Contains(named, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void SigmaOptionsGiveFloatTimestepsAndAFiniteSample(bool karras, bool exponential)
    {
        using var scope = torch.NewDisposeScope();
        using var g = new torch.Generator(0);
        var scheduler = Schedulers.Create(Name, Config with { UseKarrasSigmas = karras, UseExponentialSigmas = exponential });
        Assert.Equal(torch.float32, scheduler.Begin(10).Timesteps.dtype);
        var x = ReferenceInputs.LoopB(scheduler, 10, ReferenceInputs.SampleDeter(), g);
        Assert.False(x.isnan().any().item<bool>());
    }

    [Fact]
    public void InitNoiseSigmaIsTheLargestSigmaOrItsVpEquivalentForLeadingSpacing()
    {
        var linspace = Schedulers.Create(Name, Config).Begin(10).InitNoiseSigma;
        var leading = Schedulers.Create(Name, Config with { TimestepSpacing = TimestepSpacing.Leading }).Begin(10).InitNoiseSigma;
        Assert.InRange(linspace, 100, 200); // sigma at t = 999 of the linear schedule, about 157
        Assert.True(leading > 1 && leading < linspace);
    }
}
