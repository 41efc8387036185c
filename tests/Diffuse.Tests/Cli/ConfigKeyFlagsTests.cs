using Diffuse.Cli;
using Diffuse.Configuration;
using Xunit;

namespace Diffuse.Tests.Cli;

/// <summary>The library's errors name parameters and config keys; the CLI shows its own flags in their place.</summary>
public class ConfigKeyFlagsTests
{
    [Fact]
    public void TheLibraryNamesItsKeysAndTheCliItsFlags()
    {
        var e = Assert.Throws<DiffuseException>(() => new TrainingSpec { BatchSize = 10, GradientAccumulation = 3 }.Validate());
        Assert.Equal("batch_size", e.Key);
        Assert.DoesNotContain("--", e.Message);
        Assert.Equal("--batch-size 10 must be a multiple of --grad-accum 3", ConfigKeyFlags.Message(e));
        var lr = Assert.Throws<DiffuseException>(() => new TrainingSpec { LearningRate = 0 }.Validate());
        Assert.StartsWith("--lr must be a positive number", ConfigKeyFlags.Message(lr));
        // A message without a key is left as it is, words with underscores included.
        Assert.Equal("the batch_size of x", ConfigKeyFlags.Message(new DiffuseException("the batch_size of x")));
    }

    [Fact]
    public void ACommandWithItsOwnFlagForAKeyGetsIt()
    {
        var e = Assert.Throws<DiffuseException>(() => new NoisyClassifierSettings { ValidationFraction = 1 }.Validate());
        try
        {
            ConfigKeyFlags.Command = "train-classifier";
            Assert.StartsWith("--validation must be", ConfigKeyFlags.Message(e));
            ConfigKeyFlags.Command = "train";
            Assert.StartsWith("--val-fraction must be", ConfigKeyFlags.Message(e));
        }
        finally
        {
            ConfigKeyFlags.Command = null;
        }
    }

    [Fact]
    public void TrainShowsTheFlagsOfALibraryCheck()
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        int code = Diffuse.Cli.Cli.Run(["train", "--data", "moons", "--batch-size", "10", "--grad-accum", "3", "--out", Path.Combine(Path.GetTempPath(), "never-" + Guid.NewGuid())], output, errors);
        Assert.NotEqual(0, code);
        Assert.Equal("error: --batch-size 10 must be a multiple of --grad-accum 3", errors.ToString().Trim());
    }
}
