using System.Diagnostics;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using Diffuse.Training;
using Xunit;

namespace Diffuse.Tests.Cli;

/// <summary>
/// Kills a real training process (SIGKILL, no chance to clean up) at random moments while it writes
/// a checkpoint every step, and checks that what is left always loads and resumes.
/// </summary>
public class KillTests
{
    static System.Diagnostics.Process Start(params string[] args)
    {
        string dll = Path.Combine(AppContext.BaseDirectory, "Diffuse.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("exec");
        info.ArgumentList.Add(dll);
        foreach (var a in args) info.ArgumentList.Add(a);
        var process = System.Diagnostics.Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    [Fact]
    public void KillingTrainingAtAnyMomentLeavesALoadableCheckpoint()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        var run = Path.Combine(folder.Path, "run");
        var checkpoint = ImageTraining.CheckpointPath(run);
        var random = new Random(11);
        int? lastStep = null;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            string[] args = attempt == 0
                ? ["train", "--data", data, "--out", run, "--preset", "tiny", "--steps", "100000", "--batch-size", "4", "--timesteps", "20",
                   "--checkpoint-every", "1", "--validate-every", "0", "--sample-every", "0"]
                : ["train", "--resume", "--out", run];
            using var process = Start(args);
            var clock = Stopwatch.StartNew();
            // Wait for a checkpoint newer than the last one, then kill at a random moment.
            while (TrainCheckpoint.StepOf(checkpoint) is not { } step || step <= (lastStep ?? 0))
            {
                Assert.False(process.HasExited, $"training exited early with code {(process.HasExited ? process.ExitCode : 0)}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "no checkpoint appeared within 90 s");
                Thread.Sleep(20);
            }
            Thread.Sleep(random.Next(0, 400));
            process.Kill(entireProcessTree: true);
            process.WaitForExit();

            int? kept = TrainCheckpoint.StepOf(checkpoint);
            Assert.NotNull(kept);
            Assert.True(kept > (lastStep ?? 0));
            lastStep = kept;
            using var model = ImageModel.Load(run);
            Assert.Equal(28, model.Image.Height);
        }
        // What the kills left behind resumes: one more step from the last checkpoint.
        var outcome = ImageTraining.Run(new ImageTrainingOptions { OutDir = run, Resume = true, StopAtStep = lastStep!.Value + 1, ValidationImages = 4 });
        Assert.Equal(lastStep, outcome.StartStep);
        Assert.Equal(lastStep + 1, outcome.EndStep);
        Assert.Empty(Directory.GetFiles(run, ".*.tmp-*", SearchOption.AllDirectories));
    }

    /// <summary>
    /// Kills an image run (SIGKILL) at 20 seeded random moments while it checkpoints every step, so kills land in steps and
    /// in checkpoint writes alike: every time the folder loads, and the run resumed to its end is bitwise the run that was
    /// never interrupted, with no temporary file or staging folder left anywhere.
    /// </summary>
    [Fact]
    public void ImageTrainingKilledAt20RandomMomentsResumesToTheUninterruptedRunBitwise()
    {
        using var folder = new TempFolder();
        var data = Path.Combine(folder.Path, "idx");
        Directory.CreateDirectory(data);
        SyntheticImages.WriteIdxPair(data, "train", 40, 28, 28, 4);
        string[] settings = ["--data", data, "--preset", "tiny", "--image-size", "8", "--channel-mult", "1,2", "--steps", "80", "--batch-size", "4",
            "--timesteps", "20", "--checkpoint-every", "1", "--validate-every", "0", "--sample-every", "0", "--threads", "1"];
        var reference = Path.Combine(folder.Path, "reference");
        var run = Path.Combine(folder.Path, "run");
        var checkpoint = ImageTraining.CheckpointPath(run);
        var clock = Stopwatch.StartNew();
        using (var whole = Start(["train", .. settings, "--out", reference]))
        {
            Assert.True(whole.WaitForExit(TimeSpan.FromSeconds(120)), "the uninterrupted run took over 120 s");
            whole.WaitForExit();
            Assert.Equal(0, whole.ExitCode);
        }

        var random = new Random(20);
        int last = 0, kills = 0;
        while (kills < 20)
        {
            using var process = Start(last == 0 && kills == 0 ? ["train", .. settings, "--out", run] : ["train", "--resume", "--out", run, "--threads", "1"]);
            // Wait for a checkpoint newer than the last one, then kill at a random moment (in a step or a checkpoint write).
            while (TrainCheckpoint.StepOf(checkpoint) is not { } step || step <= last)
            {
                Assert.False(process.HasExited, $"training exited early with code {(process.HasExited ? process.ExitCode : 0)}");
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(240), "the kills took over 240 s");
                Thread.Sleep(5);
            }
            Thread.Sleep(random.Next(0, 250));
            if (process.HasExited) break; // the run reached its end before this kill
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            kills++;

            int? kept = TrainCheckpoint.StepOf(checkpoint);
            Assert.NotNull(kept);
            Assert.True(kept > last, $"the checkpoint went back from step {last} to {kept}");
            last = kept.Value;
            using var model = ImageModel.Load(run);
            Assert.Equal(8, model.Image.Height);
        }
        Assert.True(kills >= 15, $"only {kills} kills landed before the run ended; give it more steps");

        using (var rest = Start(["train", "--resume", "--out", run, "--threads", "1"]))
        {
            Assert.True(rest.WaitForExit(TimeSpan.FromSeconds(120)), "the resumed run took over 120 s");
            rest.WaitForExit();
            Assert.True(rest.ExitCode == 0 || TrainCheckpoint.StepOf(checkpoint) == 80, $"the last resume exited {rest.ExitCode}");
        }
        Assert.Equal(80, TrainCheckpoint.StepOf(checkpoint));
        foreach (var file in new[] { ModelDirectory.ModelFile, ModelDirectory.EmaFile, ModelDirectory.ConfigFile })
            Assert.True(File.ReadAllBytes(Path.Combine(reference, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(run, file))),
                $"{file} differs from the uninterrupted run's after {kills} kills");
        Assert.DoesNotContain(Directory.GetFileSystemEntries(folder.Path, ".*", SearchOption.AllDirectories),
            p => Path.GetFileName(p).Contains(".tmp-", StringComparison.Ordinal) || Path.GetFileName(p).Contains(".staging-", StringComparison.Ordinal));
    }
}
