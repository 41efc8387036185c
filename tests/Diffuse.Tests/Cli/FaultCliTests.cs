using Diffuse.Cli;
using Diffuse.Configuration;
using Diffuse.Guidance;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary>
/// Issue 20's remaining faults where the user meets them: absurd numbers refused before any work, with the bound in the
/// message; one exit code for one kind of refusal; an output that cannot be written no crash.
/// </summary>
public class FaultCliTests
{
    /// <summary>A model folder that does not exist: the line is refused while parsed, before the model would be read.</summary>
    const string NoModel = "/nonexistent/diffuse-model";

    [Theory]
    [InlineData("--lr", "1e308", "--lr must lie in (0, 1]")]
    [InlineData("--lr", "2", "--lr must lie in (0, 1]")]
    [InlineData("--weight-decay", "1e30", "--weight-decay must lie in [0, 1]")]
    [InlineData("--ema-decay", "1", "--ema-decay must lie in [0, 1)")]
    [InlineData("--beta-max", "1e300", "--beta-max must lie in (0, 1000]")]
    [InlineData("--beta-min", "1e300", "--beta-min must lie in (0, 1000]")]
    [InlineData("--sigma-max", "1e300", "--sigma-max must lie in [0.000001, 10000]")]
    [InlineData("--sigma-min", "1e-300", "--sigma-min must lie in [0.000001, 10000]")]
    [InlineData("--vlb-weight", "1e300", "--vlb-weight must lie in [0, 1000]")]
    [InlineData("--dropout", "5", "--dropout must lie in [0, 1)")]
    [InlineData("--hidden", "1000000", "--hidden must be between 1 and 65536")]
    [InlineData("--blocks", "100000", "--blocks must be between 0 and 1000")]
    public void TrainRefusesAbsurdNumbersWhileParsing(string option, string value, string expected)
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var run = folder.File("run");

        var result = Fails(2, "train", "--data", "moons", "--out", run, option, value);

        Assert.Contains(expected, result.Stderr);
        Assert.False(Directory.Exists(run));
    }

    [Theory]
    [InlineData("--guidance", "1e300", "--guidance must lie in [0, 1000]")]
    [InlineData("--classifier-scale", "1e300", "--classifier-scale must lie in [0, 1000]")]
    [InlineData("--eta", "1e300", "--eta must lie in [0, 1]")]
    [InlineData("--snr", "1e300", "--snr must lie in (0, 10]")]
    [InlineData("--step-size", "1e300", "--step-size must lie in (0, 1]")]
    [InlineData("--s-churn", "1e300", "--s-churn must lie in [0, 1000]")]
    [InlineData("--s-noise", "1e300", "--s-noise must lie in (0, 10]")]
    [InlineData("--rtol", "1e300", "--rtol must lie in (0, 1]")]
    public void SampleRefusesAbsurdNumbersWhileParsing(string option, string value, string expected)
    {
        Assert.Contains(expected, Fails(2, "sample", "--model", NoModel, "--out", "/tmp/never.png", option, value).Stderr);
    }

    [Fact]
    public void TheLibraryRefusesProcessesThatCannotStayFiniteNamingTheKey()
    {
        var beta = Assert.Throws<DiffuseException>(() => new SdeSpec { Type = SdeType.Vp, BetaMax = 1e300 }.Validate());
        Assert.Equal("beta_max", beta.Key);
        var sigma = Assert.Throws<DiffuseException>(() => new SdeSpec { Type = SdeType.Ve, SigmaMax = 1e300 }.Validate());
        Assert.Equal("sigma_max", sigma.Key);
        Assert.StartsWith("--sigma-max must be at most", ConfigKeyFlags.Message(sigma));
        var tiny = Assert.Throws<DiffuseException>(() => new SdeSpec { Type = SdeType.Ve, SigmaMin = 1e-300 }.Validate());
        Assert.Equal("sigma_min", tiny.Key);
        Assert.Equal("guidance_scale", Assert.Throws<DiffuseException>(() => new Conditioning([0], 1e300).Validate(2, 1)).Key);
        Assert.Equal("guidance_scale", Assert.Throws<DiffuseException>(() => new TextConditioning([""], 1e300).Validate(1)).Key);
        Assert.Equal("learning_rate", Assert.Throws<DiffuseException>(() => new TrainingSpec { LearningRate = 1e308 }.Validate()).Key);
        Assert.Equal("weight_decay", Assert.Throws<DiffuseException>(() => new TrainingSpec { WeightDecay = 1e30 }.Validate()).Key);
        // The defaults and score_sde's own settings stay valid.
        new SdeSpec { Type = SdeType.Vp }.Validate();
        new SdeSpec { Type = SdeType.Ve, SigmaMax = 348 }.Validate();
        new TrainingSpec().Validate();
    }

    [Fact]
    public void ABatchThatIsNoMultipleOfTheMicroBatchesIsAUsageError()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var result = Fails(2, "train", "--data", "moons", "--out", folder.File("run"), "--batch-size", "10", "--grad-accum", "3");
        Assert.Contains("--batch-size 10 must be a multiple of --grad-accum 3", result.Stderr);
    }

    [Fact]
    public void AnOutputThatNeedsForceIsTheSameUsageErrorInEveryCommand()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var model = folder.File("model");
        Train(model);
        File.WriteAllText(folder.File("taken.csv"), "x");
        Directory.CreateDirectory(folder.File("full"));
        File.WriteAllText(folder.File("full/notes.txt"), "keep me");

        Assert.Contains("already holds a model; pass --force", Fails(2, ["train", "--data", "moons", "--out", model, .. TinyTraining]).Stderr);
        Assert.Contains("already exists; pass --force", Fails(2, "sample", "--model", model, "--n", "2", "--out", folder.File("taken.csv")).Stderr);
        Assert.Contains("is not empty; pass --force", Fails(2, "sample", "--model", model, "--n", "2", "--out-dir", folder.File("full")).Stderr);
        Assert.Equal("keep me", File.ReadAllText(folder.File("full/notes.txt")));
    }

    [Fact]
    public void AFailedCommandLeavesNoEmptyFolderOfItsOwnMakingButKeepsFoldersThatWereThere()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var empty = folder.File("no-images");
        Directory.CreateDirectory(empty);
        var existing = folder.File("existing");
        Directory.CreateDirectory(existing);

        Fails(1, "train", "--data", empty, "--out", folder.File("new/run"), "--preset", "tiny", "--steps", "2");
        Fails(1, "train", "--data", empty, "--out", existing, "--preset", "tiny", "--steps", "2");

        Assert.False(Directory.Exists(folder.File("new")), "the failed run left the folders it created");
        Assert.True(Directory.Exists(existing));
    }

    /// <summary>
    /// Runs the built CLI, sends it SIGINT (Ctrl-C) once a line of standard error starts with <paramref name="progress"/>,
    /// and returns its exit code and standard error.
    /// </summary>
    static (int ExitCode, string Stderr) InterruptWhen(string progress, params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Diffuse.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new System.Diagnostics.ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "exec", dll }.Concat(args)) info.ArgumentList.Add(a);
        using var process = System.Diagnostics.Process.Start(info)!;
        var stderr = new System.Text.StringBuilder();
        bool started = false;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (stderr) stderr.AppendLine(e.Data);
            if (e.Data.StartsWith(progress, StringComparison.Ordinal)) Volatile.Write(ref started, true);
        };
        process.OutputDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!Volatile.Read(ref started))
        {
            Assert.False(process.HasExited, $"the command ended before Ctrl-C: {stderr}");
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"no '{progress}' line within 60 s");
            Thread.Sleep(20);
        }
        using (var kill = System.Diagnostics.Process.Start("kill", ["-INT", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
        Assert.True(process.WaitForExit(TimeSpan.FromSeconds(60)), "the process did not stop within 60 s of Ctrl-C");
        process.WaitForExit();
        lock (stderr) return (process.ExitCode, stderr.ToString());
    }

    [Fact]
    public void CtrlCWhileSamplingSaysInterruptedExits130AndWritesNothing()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var model = folder.File("model");
        Train(model);
        var csv = folder.File("samples.csv");

        var (code, stderr) = InterruptWhen("sample ", "sample", "--model", model, "--n", "2000000", "--steps", "50", "--out", csv);

        Assert.Equal(Diffuse.Cli.Cli.Interrupted, code);
        Assert.Contains("interrupted: nothing was written", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(File.Exists(csv));
        Assert.Single(Directory.GetFileSystemEntries(folder.Path));
    }

    [Fact]
    public void CtrlCWhileTrainingPointsLeavesNoEmptyFolderBehind()
    {
        using var folder = new Diffuse.Tests.IO.TempFolder();
        var run = folder.File("new/run");

        var (code, stderr) = InterruptWhen("train ", "train", "--data", "moons", "--out", run, "--steps", "1000000", "--hidden", "16", "--blocks", "1");

        Assert.Equal(Diffuse.Cli.Cli.Interrupted, code);
        Assert.Contains("interrupted: nothing was written", stderr);
        Assert.False(Directory.Exists(folder.File("new")), "the interrupted run left the folders it created");
    }

    [Fact]
    public void UnknownSamplerOptionsNameTheWord()
    {
        var result = Fails(2, "samplers", "--bogus");
        Assert.Contains("'--bogus'", result.Stderr);
        Assert.DoesNotContain("known: \n", result.Stderr + "\n");
    }

    /// <summary>A writer whose every write fails as a closed or full standard output does.</summary>
    sealed class FailingWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void Write(char value) => throw new IOException("No space left on device");
        public override void Write(string? value) => throw new IOException("No space left on device");
        public override void Write(char[] buffer, int index, int count) => throw new IOException("No space left on device");
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("samplers")]
    [InlineData("--version")]
    public void AFullOrClosedStandardOutputIsAnErrorNotACrash(string command)
    {
        var stderr = new StringWriter();
        int code = Diffuse.Cli.Cli.Run([command], new FailingWriter(), stderr);
        Assert.Equal(Diffuse.Cli.Cli.Failure, code);
        Assert.StartsWith("error: No space left on device", stderr.ToString());
        Assert.DoesNotContain("   at ", stderr.ToString());
    }

    [Fact]
    public void EvenAClosedStandardErrorEndsWithAnExitCodeNotACrash()
    {
        int code = Diffuse.Cli.Cli.Run(["samplers"], new FailingWriter(), new FailingWriter());
        Assert.Equal(Diffuse.Cli.Cli.Failure, code);
    }
}
