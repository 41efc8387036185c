using System.Text.Json.Nodes;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary><c>diffuse train --sde</c>: continuous-time score models from the command line.</summary>
[Collection(CliCollection.Name)]
public class SdeCliTests(TrainedModel trained)
{
    static void OneLineError(CliResult result, string expected)
    {
        Assert.NotEqual(0, result.ExitCode);
        var line = Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", line);
        Assert.Contains(expected, line);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void TrainWritesTheSdeSectionTheDiscreteSamplersRefuseTheModelAndTheScoreSamplersDrawIt()
    {
        var dir = Path.Combine(trained.NewFolder(), "ve");
        var result = RunOk(["train", "--data", "moons", "--out", dir, .. TinyTraining, "--sde", "ve", "--sigma-min", "0.02", "--sigma-max", "20"]);
        Assert.Contains("final loss", result.Stdout);
        var sde = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!["sde"]!;
        Assert.Equal("ve", (string?)sde["type"]);
        Assert.Equal(0.02, (double)sde["sigma_min"]!);
        Assert.Equal(20, (double)sde["sigma_max"]!);
        Assert.Equal(50, (int)sde["discrete_steps"]!); // --timesteps 50 of TinyTraining

        var outFile = Path.Combine(trained.NewFolder(), "s.csv");
        OneLineError(Run("sample", "--model", dir, "--n", "10", "--out", outFile, "--sampler", "ddim", "--steps", "5"),
            $"'{dir}' is a continuous-time VE SDE model; discrete schedulers such as 'ddim' do not apply; use --sampler pc, ode or euler_maruyama");
        Assert.False(File.Exists(outFile));
        OneLineError(Run("eval", "--model", dir, "--n", "10", "--steps", "5", "--sampler", "ddpm"), "continuous-time VE SDE model");
        OneLineError(Run("eval", "nll", "--model", dir, "--nll-points", "8"), "the ELBO needs a discrete-time model");

        // Without --sampler an SDE model samples with pc; every score sampler applies, annealed Langevin too (VE).
        RunOk("sample", "--model", dir, "--n", "10", "--out", outFile, "--steps", "5");
        Assert.Equal(11, File.ReadAllLines(outFile).Length);
        var pc = RunOk("eval", "--model", dir, "--n", "50", "--steps", "5", "--projections", "8");
        Assert.Contains("pc, 5 steps, 1 corrector, snr 0.16, 10 NFE", pc.Stdout);
        RunOk("eval", "--model", dir, "--n", "50", "--sampler", "annealed_langevin", "--steps", "3", "--corrector-steps", "2", "--projections", "8");
        RunOk("eval", "--model", dir, "--n", "50", "--sampler", "ode", "--rtol", "1e-3", "--atol", "1e-3", "--projections", "8");
        var nll = RunOk("eval", "nll", "--model", dir, "--ode-only", "--nll-points", "16", "--rtol", "1e-3", "--atol", "1e-3");
        Assert.Contains("VE SDE, sigma 0.02 to 20", nll.Stdout);
    }

    [Fact]
    public void ADiscreteRunWritesNoSdeSection()
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(trained.Model, "config.json")))!.AsObject();
        Assert.False(config.ContainsKey("sde"));
    }

    [Fact]
    public void ALogNormalRunWritesTheNoiseLevelsItTrainedOn()
    {
        var dir = Path.Combine(trained.NewFolder(), "m");
        Train(dir, 0, "--timesteps-sampler", "lognormal", "--log-sigma-std", "0.8");
        var config = File.ReadAllText(Path.Combine(dir, "config.json"));
        Assert.Contains("\"timestep_sampler\": \"log_normal\"", config);
        Assert.Contains("\"log_sigma_mean\": -1.2", config);
        Assert.Contains("\"log_sigma_std\": 0.8", config);
        Assert.DoesNotContain("log_sigma", File.ReadAllText(Path.Combine(trained.Model, "config.json")));
    }

    [Theory]
    [InlineData("--sde", "vq", "--sde must be vp, subvp or ve")]
    [InlineData("--beta-min", "0.2", "--beta-min applies to continuous-time SDE models only")]
    [InlineData("--sigma-max", "10", "--sigma-max applies to continuous-time SDE models only")]
    [InlineData("--sde ve --beta-max", "10", "--beta-max applies to --sde vp and subvp, not ve")]
    [InlineData("--sde vp --sigma-min", "0.1", "--sigma-min applies to --sde ve, not vp")]
    [InlineData("--sde subvp --beta-min", "30", "0 < beta_min <= beta_max")]
    [InlineData("--sde ve --sigma-min", "100", "0 < sigma_min < sigma_max")]
    [InlineData("--sde vp --beta-max", "-1", "--beta-max must lie in (0, 1000]")]
    [InlineData("--sde ve --sigma-max", "big", "--sigma-max must be a number")]
    [InlineData("--sde vp --schedule", "cosine", "--schedule applies to discrete-time models")]
    [InlineData("--sde vp --prediction", "v_prediction", "predicts the noise")]
    [InlineData("--sde vp --loss", "hybrid", "not an --sde model")]
    [InlineData("--sde vp --timesteps-sampler", "loss-aware", "loss-aware does not apply")]
    [InlineData("--sde ve --timesteps-sampler", "lognormal", "lognormal does not apply")]
    [InlineData("--log-sigma-mean", "0", "add --timesteps-sampler lognormal")]
    [InlineData("--timesteps-sampler lognormal --log-sigma-std", "0", "--log-sigma-std must")]
    [InlineData("--loss", "likelihood", "add --sde")]
    public void BadSdeOptionsAreOneLineUsageErrors(string options, string value, string expected)
    {
        var parent = trained.NewFolder();
        var outDir = Path.Combine(parent, "m");
        var result = Run(["train", "--data", "moons", "--out", outDir, .. TinyTraining, .. options.Split(' '), value]);
        OneLineError(result, expected);
        Assert.Equal(2, result.ExitCode);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void ResumeRefusesSdeOptions()
    {
        var result = Run("train", "--resume", "--out", trained.NewFolder(), "--sde", "vp");
        OneLineError(result, "--sde cannot change them");
    }
}
