using System.Globalization;
using System.Text.RegularExpressions;
using Diffuse.Data;
using Diffuse.Evaluation;
using TorchSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary><c>eval --nll</c> on models of 2-D points: the ELBO and the probability-flow NLL in nats/dim of the data.</summary>
[Collection(CliCollection.Name)]
public class PointNllCliTests(TrainedModel trained)
{
    static double Value(string stdout, string label)
    {
        var match = Regex.Match(stdout, $@"{label}\s+(-?[0-9.]+) ± ([0-9.]+) nats/dim");
        Assert.True(match.Success, $"no {label} line in:\n{stdout}");
        return double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
    }

    [Fact]
    public void PointModelsGetBothEstimatesAndTheTrueValueWhereKnown()
    {
        var moons = RunOk("eval", "nll", "--model", trained.Model, "--nll-points", "64", "--rtol", "1e-3", "--atol", "1e-3").Stdout;
        Assert.Contains("NLL of 64 fresh points of moons", moons);
        Assert.True(double.IsFinite(Value(moons, "ELBO")) && double.IsFinite(Value(moons, "ODE")), moons);
        Assert.Contains("exact trace", moons);
        Assert.DoesNotContain("true", moons);

        var dir = Path.Combine(trained.NewFolder(), "8g");
        RunOk(["train", "--data", "8gaussians", "--out", dir, .. TinyTraining]);
        var eight = RunOk("eval", "nll", "--model", dir, "--nll-points", "64", "--ode-only", "--rtol", "1e-3", "--atol", "1e-3").Stdout;
        Assert.DoesNotContain("ELBO", eight);
        Assert.True(double.IsFinite(Value(eight, "ODE")), eight);
        // 8gaussians' entropy per dimension: log(8)/2 + Gaussian entropy of std 0.5/sqrt 2, about 1.4 nats.
        Assert.InRange(Value(eight, "true"), 1.2, 1.6);
    }

    [Theory]
    [InlineData("--nll-images", "10", "--nll-points")]
    // eval nll has no --precision (fp32 only) and samples nothing ("Unrecognized command or argument '--precision'.").
    [InlineData("--precision", "fp32", "'--precision'")]
    [InlineData("--sampler", "pc", "'--sampler'")]
    public void ImageOnlyOptionsAreRefusedForPoints(string option, string value, string fragment)
    {
        var result = Run("eval", "nll", "--model", trained.Model, option, value);
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains(fragment, Assert.Single(result.StderrLines));
    }

    [Fact]
    public void TheEightGaussiansDensityIsTheDataset()
    {
        using var scope = torch.NewDisposeScope();
        using var density = Toy2DDensity.Of("8gaussians")!;
        Assert.Null(Toy2DDensity.Of("moons"));
        using var g = new torch.Generator(4);
        // The mean log density of the dataset's own points is the mixture's negative entropy, estimated from the mixture's draws.
        var data = Toy2D.Sample("8gaussians", 20000, g).to_type(torch.ScalarType.Float64);
        var own = density.Sample(20000, g);
        double fromData = density.LogDensity(data).mean().item<double>(), fromMixture = density.LogDensity(own).mean().item<double>();
        Assert.True(Math.Abs(fromData - fromMixture) < 0.03, $"dataset {fromData:F4} vs mixture {fromMixture:F4}");
        // A mixture of another spread fits the data worse.
        using var wider = new GaussianMixture(new double[,] { { 0, 0 } }, [2.0], [1.0]);
        Assert.True(wider.LogDensity(data).mean().item<double>() < fromData - 0.5);
    }
}
