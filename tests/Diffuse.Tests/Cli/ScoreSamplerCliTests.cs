using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>The score-SDE samplers through <c>sample</c> and <c>eval</c> on the trained discrete (VP) point model.</summary>
[Collection(CliCollection.Name)]
public class ScoreSamplerCliTests(TrainedModel trained)
{
    string[] Sample(string outFile, params string[] extra) =>
        ["sample", "--model", trained.Model, "--out", outFile, "--n", "100", "--seed", "2", .. extra];

    [Theory]
    [InlineData("pc", "--steps", "20")]
    [InlineData("reverse_diffusion", "--steps", "20")]
    [InlineData("euler_maruyama", "--steps", "20")]
    [InlineData("langevin", "--steps", "20")]
    [InlineData("ode", "--rtol", "1e-3")]
    public void ScoreSamplersDrawFiniteReproducibleSamples(string sampler, string option, string value)
    {
        var dir = trained.NewFolder();
        string a = Path.Combine(dir, "a.csv"), b = Path.Combine(dir, "b.csv");
        RunOk(Sample(a, "--sampler", sampler, option, value));
        RunOk(Sample(b, "--sampler", sampler, option, value));
        var lines = File.ReadAllLines(a);
        Assert.Equal(101, lines.Length);
        Assert.All(lines.Skip(1).SelectMany(l => l.Split(',')), v => Assert.True(double.IsFinite(double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)), v));
        Assert.Equal(lines, File.ReadAllLines(b));
    }

    [Fact]
    public void EvalReportsTheNetworkEvaluations()
    {
        var pc = RunOk("eval", "--model", trained.Model, "--n", "200", "--sampler", "pc", "--steps", "20", "--corrector-steps", "2", "--projections", "16");
        Assert.Contains("pc, 20 steps, 2 corrector, snr 0.16, 60 NFE", pc.Stdout);
        var ode = RunOk("eval", "--model", trained.Model, "--n", "200", "--sampler", "ode", "--atol", "1e-3", "--rtol", "1e-3", "--projections", "16");
        var match = System.Text.RegularExpressions.Regex.Match(ode.Stdout, @"ode, rtol 0\.001 atol 0\.001, (\d+) NFE");
        Assert.True(match.Success, ode.Stdout);
        Assert.True(int.Parse(match.Groups[1].Value) >= 7, ode.Stdout);
    }

    [Theory]
    [InlineData("annealed_langevin needs a VE SDE", "--sampler", "annealed_langevin")]
    [InlineData("--rtol must lie in (0, 1]", "--sampler", "ode", "--rtol", "0")]
    [InlineData("--atol must lie in (0, 1]", "--sampler", "ode", "--atol", "-1e-5")]
    [InlineData("--steps does not apply", "--sampler", "ode", "--steps", "10")]
    [InlineData("--rtol and --atol apply to the ode sampler", "--sampler", "pc", "--rtol", "1e-3")]
    [InlineData("--snr applies to the score samplers", "--sampler", "ddim", "--snr", "0.1")]
    [InlineData("--snr applies to the pc and langevin samplers", "--sampler", "euler_maruyama", "--snr", "0.1")]
    [InlineData("--karras does not apply", "--sampler", "pc", "--karras")]
    [InlineData("--snr must lie in (0, 10]", "--sampler", "pc", "--snr", "0")]
    [InlineData("--corrector-steps", "--sampler", "langevin", "--corrector-steps", "0")]
    public void WhatDoesNotApplyIsAOneLineError(string fragment, params string[] extra)
    {
        var outFile = Path.Combine(trained.NewFolder(), "out.csv");
        var result = Run(Sample(outFile, extra));
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(fragment, line);
        Assert.False(File.Exists(outFile));
    }
}
