using Diffuse.Configuration;
using Diffuse.Sampling;
using Xunit;

namespace Diffuse.Tests.Sampling;

public class SchedulersTests
{
    [Fact]
    public void NamesListEveryScheduler() =>
        Assert.Equal(new[] { "ddpm", "ddim", "ddim_inverse", "euler", "euler_ancestral", "heun", "lms", "dpm2", "dpm2_ancestral", "dpmpp_2m", "dpmpp_2m_sde", "dpmpp_3m_sde", "dpmpp_2s", "dpmpp_2s_ancestral", "unipc", "pndm", "deis" }, Schedulers.Names);

    [Fact]
    public void UnknownNameListsTheValidOnes()
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create("eulr", "{}"));
        Assert.Contains("'eulr'", e.Message);
        foreach (var name in Schedulers.Names) Assert.Contains(name, e.Message);
        Assert.Throws<DiffuseException>(() => Schedulers.Describe("eulr"));
    }

    [Fact]
    public void ExactlyTheSchedulersWithAscendingTimestepsInvert()
    {
        Assert.True(Schedulers.Inverts("ddim_inverse"));
        foreach (var name in Schedulers.Names)
        {
            using var ts = Schedulers.Create(name, new SchedulerConfig()).Begin(5).Timesteps.to_type(TorchSharp.torch.float64);
            Assert.Equal(ts[0].item<double>() < ts[-1].item<double>(), Schedulers.Inverts(name));
        }
    }

    [Fact]
    public void EmptyJsonMeansDefaults() => Assert.Equal(new SchedulerConfig(), Schedulers.Create("ddim", "").Config);

    [Fact]
    public void MalformedJsonIsOneLine()
    {
        var e = Assert.Throws<DiffuseException>(() => Schedulers.Create("ddpm", """{"beta_schedule": "cosine"}"""));
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void DirectConstructionValidatesToo()
    {
        var e = Assert.Throws<DiffuseException>(() => new DdimScheduler(new SchedulerConfig { Eta = -1 }));
        Assert.Contains("eta", e.Message);
    }

    [Fact]
    public void StepReadsTimestepsOfAnyIntegerOrFloatDtypeAndShapeOne()
    {
        Assert.Equal(801, StepMath.Timestep(TorchSharp.torch.tensor(801L), 1000));
        Assert.Equal(801, StepMath.Timestep(TorchSharp.torch.tensor(new[] { 801 }), 1000));
        Assert.Equal(801, StepMath.Timestep(TorchSharp.torch.tensor(801f), 1000));
        Assert.Throws<DiffuseException>(() => StepMath.Timestep(TorchSharp.torch.tensor(new long[] { 1, 2 }), 1000));
        Assert.Contains("1000", Assert.Throws<DiffuseException>(() => StepMath.Timestep(TorchSharp.torch.tensor(1000L), 1000)).Message);
    }

    [Fact]
    public void StepsOffsetPastTheLastTrainingTimestepIsRefused()
    {
        var scheduler = Schedulers.Create("ddim", new SchedulerConfig { StepsOffset = 1 });
        Assert.Equal(999, scheduler.Begin(500).Timesteps.data<long>().ToArray()[0]); // 499 * 2 + 1
        var e = Assert.Throws<DiffuseException>(() => scheduler.Begin(1000));
        Assert.Contains("steps_offset", e.Message);
    }

    [Fact]
    public void EveryRegisteredSchedulerHasContractTests()
    {
        static IEnumerable<Type> Bases(Type t) { for (var b = t.BaseType; b is not null; b = b.BaseType) yield return b; }
        var tested = typeof(SchedulersTests).Assembly.GetTypes()
            .Where(t => !t.IsAbstract)
            .SelectMany(Bases)
            .Where(b => b.IsGenericType && b.GetGenericTypeDefinition() == typeof(SchedulerContractTests<>))
            .Select(b => b.GetGenericArguments()[0])
            .ToHashSet();
        foreach (var name in Schedulers.Names)
            Assert.Contains(Schedulers.Create(name, new SchedulerConfig()).GetType(), tested);
    }

    [Theory]
    [InlineData("dpmpp_2m", true)]
    [InlineData("dpmpp_2m_sde", true)]
    [InlineData("dpmpp_3m_sde", true)]
    [InlineData("dpmpp_2s", true)]
    [InlineData("unipc", true)]
    [InlineData("deis", true)]
    [InlineData("ddpm", false)]
    [InlineData("ddim", false)]
    [InlineData("euler", false)]
    [InlineData("heun", false)]
    public void BoundedDataThresholdsWhereClippingIsNotAKey(string name, bool thresholds)
    {
        var bounded = new SchedulerConfig { ClipSample = true };
        var config = Schedulers.ForBoundedData(name, bounded);
        Assert.Equal(thresholds, config.Thresholding);
        if (thresholds) Assert.Equal(1.0, config.SampleMaxValue);
        else Assert.Equal(bounded, config);
        Assert.Equal(new SchedulerConfig { ClipSample = false }, Schedulers.ForBoundedData(name, new SchedulerConfig { ClipSample = false }));
        Assert.Equal(bounded with { ClipSampleRange = 2 }, Schedulers.ForBoundedData(name, bounded with { ClipSampleRange = 2 }));
    }

    [Fact]
    public void ThresholdingAtMaxValueOneIsTheClip()
    {
        // Why ForBoundedData may stand in for clip_sample: s = clamp(quantile(|x0|), 1, 1) = 1, so x0 -> clamp(x0, -1, 1).
        using var g = new TorchSharp.torch.Generator(5);
        using var x0 = TorchSharp.torch.randn(new long[] { 4, 3, 8, 8 }, generator: g) * 2;
        using var thresholded = StepMath.DynamicThreshold(x0, 0.995, 1.0);
        using var clipped = x0.clamp(-1, 1);
        Assert.True(thresholded.equal(clipped).all().item<bool>());
    }
}
