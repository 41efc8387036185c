using Diffuse.Configuration;
using Diffuse.IO;
using Diffuse.Models;
using Diffuse.Pipelines;
using Diffuse.Sampling;
using Diffuse.ScoreSampling;
using Diffuse.Tests.IO;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace Diffuse.Tests.Pipelines;

/// <summary>Issue 20: samples that are not finite are an error, never an output.</summary>
public class NonFiniteSampleTests
{
    /// <summary>A point model folder whose weights are all NaN.</summary>
    internal static string WriteNanModel(TempFolder folder, string name = "nan")
    {
        var dir = OversizedConfigTests.WriteModel(folder, OversizedConfigTests.SmallPoints, name);
        using var network = NetworkTypes.Build(OversizedConfigTests.SmallPoints.Network);
        using (no_grad())
            foreach (var p in network.parameters()) p.fill_(double.NaN);
        ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.ModelFile), network);
        ModelDirectory.SaveWeights(Path.Combine(dir, ModelDirectory.EmaFile), network);
        return dir;
    }

    [Fact]
    public void RequireCountsTheSamplesThatAreNotFinite()
    {
        using var x = ones(4, 2, 3);
        Assert.Same(x, FiniteSamples.Require(x));
        x[1, 0, 2] = tensor(double.NaN);
        x[3, 1, 0] = tensor(double.PositiveInfinity);
        var error = Assert.Throws<DiffuseException>(() => FiniteSamples.Require(x));
        Assert.Equal("2 of 4 samples are not finite; the model's weights or the sampling settings (guidance, sde beta_max) make the process diverge", error.Message);
    }

    [Fact]
    public void TheSamplingLoopRefusesToReturnNaN()
    {
        var scheduler = Schedulers.Create("ddim", new SchedulerConfig { NumTrainTimesteps = 50 });
        using var g = new Generator(0);
        Func<Tensor, Tensor, Tensor> model = (x, t) => x * double.NaN;
        Assert.Contains("3 of 3 samples are not finite", Assert.Throws<DiffuseException>(() => SamplingLoop.Run(model, scheduler, 5, [3, 2], g)).Message);
    }

    [Theory]
    [InlineData("ddpm")]
    [InlineData("dpmpp_2m")]
    [InlineData("euler")]
    public void AModelOfNaNWeightsIsAnErrorWithEveryScheduler(string sampler)
    {
        using var folder = new TempFolder();
        using var model = PointModel.Load(WriteNanModel(folder));
        using var g = new Generator(0);
        var error = Assert.Throws<DiffuseException>(() => model.Sample(10, model.CreateScheduler(sampler), 5, g));
        Assert.StartsWith("10 of 10 samples are not finite", error.Message);
    }

    [Theory]
    [InlineData(ScoreSamplers.PredictorCorrector)]
    [InlineData(ScoreSamplers.EulerMaruyama)]
    public void AModelOfNaNWeightsIsAnErrorWithTheScoreSamplers(string sampler)
    {
        using var folder = new TempFolder();
        using var model = PointModel.Load(WriteNanModel(folder));
        using var g = new Generator(0);
        var error = Assert.Throws<DiffuseException>(() => model.SampleScore(4, new ScoreSamplerSettings { Name = sampler, Steps = 5 }, g));
        Assert.Contains("samples are not finite", error.Message);
    }
}
