using Diffuse.IO;
using TorchSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

/// <summary><c>train --precision</c>, and <c>--threads</c> / <c>--device</c> of every command.</summary>
[Collection(ImageCliCollection.Name)]
public class ComputeCliTests(TrainedImageModel trained)
{
    static CliResult Fails(int code, params string[] argv)
    {
        var result = Run(argv);
        Assert.True(result.ExitCode == code, $"diffuse {string.Join(' ', argv)} exited {result.ExitCode}, expected {code}:\n{result.Stdout}\n{result.Stderr}");
        Assert.Single(result.StderrLines);
        Assert.StartsWith("error: ", result.StderrLines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", result.Stderr);
        return result;
    }

    [Fact]
    public void Bf16TrainingIsWrittenToTheConfigAndResumes()
    {
        var run = Path.Combine(trained.NewFolder(), "run");
        var first = RunOk(["train", "--data", trained.Data, "--out", run, .. ImageCliTests.TinyImageTraining, "--precision", "bf16", "--stop-at", "1"]);
        Assert.Contains("stopped at step 1", first.Stdout);
        Assert.Contains("\"precision\": \"bf16\"", File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile)));
        // The precision is the run's: --resume takes it from config.json and refuses another.
        Fails(2, "train", "--resume", "--out", run, "--precision", "fp32");
        var second = RunOk("train", "--resume", "--out", run);
        Assert.Contains("from step 1 to 3 of 3", second.Stdout);
        // The bf16 run's exported weights are float32 (the master weights).
        using var weights = SafeTensors.Read(Path.Combine(run, ModelDirectory.ModelFile));
        Assert.All(weights.Tensors.Values, t => Assert.Equal(torch.ScalarType.Float32, t.dtype));
    }

    [Fact]
    public void Fp32TrainingLeavesTheConfigAsBeforeAndTheDefaultFollowsTheCpu()
    {
        // A float32 run writes no key, so older fingerprints stay valid.
        var run = Path.Combine(trained.NewFolder(), "fp32");
        RunOk(["train", "--data", trained.Data, "--out", run, .. ImageCliTests.TinyImageTraining, "--precision", "fp32"]);
        Assert.DoesNotContain("\"precision\"", File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile)));
        // The fixture's model was trained without --precision: bfloat16 where the CPU computes it.
        bool bf16 = File.ReadAllText(Path.Combine(trained.Model, ModelDirectory.ConfigFile)).Contains("\"precision\": \"bf16\"");
        Assert.Equal(CpuFeatures.HasBFloat16, bf16);
    }

    [Fact]
    public void BadPrecisionsAreRefused()
    {
        var folder = trained.NewFolder();
        // An unknown precision is refused while the command line is parsed (exit 2; it was 1 when the run's config caught it).
        Assert.Contains("fp32, bf16", Fails(2, ["train", "--data", trained.Data, "--out", Path.Combine(folder, "a"), .. ImageCliTests.TinyImageTraining, "--precision", "fp16"]).Stderr);
        Assert.Contains("images only", Fails(2, ["train", "--data", "moons", "--out", Path.Combine(folder, "b"), .. TinyTraining, "--precision", "bf16"]).Stderr);
        Assert.False(Directory.Exists(Path.Combine(folder, "a", "train_state")));
    }

    [Fact]
    public void ThreadsSetLibtorchsThreadCountForTheCommandOnly()
    {
        int before = torch.get_num_threads();
        int asked = before == 1 ? 2 : 1;
        Assert.Contains($"libtorch threads {asked},", RunOk("info", "--threads", asked.ToString()).Stdout);
        Assert.Contains($"libtorch threads {asked},", RunOk("info", $"--threads={asked}").Stdout);
        Assert.Contains($"convolutions: ", RunOk("info", $"--threads={asked}").Stdout);
        Assert.Contains($"at {asked} thread(s)", RunOk("info", $"--threads={asked}").Stdout);
        Assert.Equal(before, torch.get_num_threads());
        Assert.Contains("at least 1", Fails(2, "info", "--threads", "0").Stderr);
        int most = 4 * Environment.ProcessorCount;
        Assert.Contains($"libtorch threads {most},", RunOk("info", "--threads", most.ToString()).Stdout);
        var tooMany = Fails(2, "info", "--threads", "100000").Stderr;
        Assert.Contains($"at most {most}", tooMany);
        Assert.DoesNotContain('\n', tooMany.TrimEnd());
        Assert.Contains($"at most {most}", Fails(2, "sample", "--model", trained.Model, "--threads", (most + 1).ToString()).Stderr);
        Assert.Contains("whole number", Fails(2, "sample", "--model", trained.Model, "--threads", "two").Stderr);
        // System.CommandLine's wording: "Option '--threads' expects a single argument but 2 were provided."
        Assert.Contains("'--threads' expects a single argument", Fails(2, "info", "--threads", "1", "--threads", "2").Stderr);
        // "Required argument missing for option: '--threads'."
        Assert.Contains("argument missing for option: '--threads'", Fails(2, "info", "--threads").Stderr);
    }

    [Fact]
    public void DeviceCpuAndAutoRunOnTheCpuAndCudaWithoutCudaIsAOneLineError()
    {
        var folder = trained.NewFolder();
        var plain = Path.Combine(folder, "plain.png");
        var cpu = Path.Combine(folder, "cpu.png");
        var auto = Path.Combine(folder, "auto.png");
        RunOk("sample", "--model", trained.Model, "--n", "2", "--steps", "2", "--out", plain);
        RunOk("sample", "--model", trained.Model, "--n", "2", "--steps", "2", "--out", cpu, "--device", "cpu", "--threads", "1");
        RunOk("sample", "--model", trained.Model, "--n", "2", "--steps", "2", "--out", auto, "--device=auto");
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(cpu));
        Assert.Equal(File.ReadAllBytes(plain), File.ReadAllBytes(auto));

        var refused = Path.Combine(folder, "cuda.png");
        Assert.Contains("CUDA is not available", Fails(1, "sample", "--model", trained.Model, "--n", "2", "--steps", "2", "--out", refused, "--device", "cuda").Stderr);
        Assert.False(File.Exists(refused));
        Assert.Contains("auto, cpu or cuda", Fails(2, "info", "--device", "gpu").Stderr);
        Assert.Contains("--device", RunOk("train", "--help").Stdout);
        Assert.Contains("--threads", RunOk("--help").Stdout);
    }

    [Fact]
    public void AutoPicksCudaOnlyWhereItIsAvailable()
    {
        Assert.Equal(DeviceType.CUDA, ComputeDevice.Resolve(DeviceChoice.Auto, () => true));
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(DeviceChoice.Auto, () => false));
        Assert.Equal(DeviceType.CPU, ComputeDevice.Resolve(DeviceChoice.Cpu, () => true));
        Assert.Equal(DeviceType.CUDA, ComputeDevice.Resolve(DeviceChoice.Cuda, () => true));
        Assert.Throws<DiffuseException>(() => ComputeDevice.Resolve(DeviceChoice.Cuda, () => false));
        Assert.Throws<DiffuseException>(() => ComputeDevice.SetThreads(0));
    }
}
