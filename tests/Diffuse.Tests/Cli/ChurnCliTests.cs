using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>EDM's churn (--s-churn, --s-tmin, --s-tmax, --s-noise) through <c>sample</c>, on the trained point model.</summary>
[Collection(CliCollection.Name)]
public class ChurnCliTests(TrainedModel trained)
{
    string[] Sample(string outFile, params string[] extra) =>
        ["sample", "--model", trained.Model, "--out", outFile, "--n", "50", "--seed", "2", "--steps", "10", .. extra];

    [Theory]
    [InlineData("euler")]
    [InlineData("heun")]
    public void ChurnChangesTheSamplesOfEulerAndHeunAndZeroChurnDoesNot(string sampler)
    {
        var dir = trained.NewFolder();
        string plain = Path.Combine(dir, "plain.csv"), zero = Path.Combine(dir, "zero.csv"), churned = Path.Combine(dir, "churned.csv");
        RunOk(Sample(plain, "--sampler", sampler));
        RunOk(Sample(zero, "--sampler", sampler, "--s-churn", "0"));
        RunOk(Sample(churned, "--sampler", sampler, "--s-churn", "40", "--s-noise", "1.003"));
        Assert.Equal(File.ReadAllLines(plain), File.ReadAllLines(zero));
        Assert.NotEqual(File.ReadAllLines(plain), File.ReadAllLines(churned));
    }

    [Theory]
    [InlineData("ddim", "--s-churn", "1")]
    [InlineData("pc", "--s-noise", "1")]
    [InlineData("euler", "--s-churn", "-1")]
    [InlineData("euler", "--s-noise", "0")]
    public void ChurnWhereItDoesNotApplyIsAUsageError(string sampler, string option, string value)
    {
        var dir = trained.NewFolder();
        var result = Fails(2, Sample(Path.Combine(dir, "x.csv"), "--sampler", sampler, option, value));
        Assert.Contains(option, result.Stderr);
        Assert.Empty(Directory.GetFiles(dir));
    }
}
