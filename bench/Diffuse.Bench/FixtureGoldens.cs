using Diffuse.IO;
using Diffuse.Tests.Fixtures;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// Writes golden.safetensors into each fixture folder that make-fixtures.sh trained (tests/Diffuse.Tests/Fixtures/models):
/// the stored inputs, the network's output on them and the samples from the stored noise, as the code of this checkout
/// computes them (<see cref="FixtureRuns"/>, which OldModelFolderTests reruns).
/// </summary>
static class FixtureGoldens
{
    /// <summary>One seed for every folder's inputs; any fixed value does.</summary>
    const ulong InputSeed = 20_261_207;

    public static int Run(string[] args)
    {
        if (args.Length is < 1 or > 2)
        {
            Console.Error.WriteLine("usage: Diffuse.Bench fixture-goldens MODELS-DIR [WRITTEN-BY]");
            return 2;
        }
        string root = args[0], writtenBy = args.Length > 1 ? args[1] : "unknown";
        // The tests run libtorch on one thread (TestThreads); the goldens are written the same way.
        torch.set_num_threads(1);
        var settings = new FixtureSettings();
        foreach (var dir in Directory.GetDirectories(root).Order(StringComparer.Ordinal))
        {
            var kind = FixtureKinds.Parse(Path.GetFileName(dir));
            using var model = FixtureRuns.Load(kind, dir);
            using var scope = NewDisposeScope();
            var tensors = FixtureRuns.DrawInputs(kind, model, settings, InputSeed);
            tensors[FixtureRuns.DenoisedKey] = FixtureRuns.Denoised(kind, model, tensors);
            tensors[FixtureRuns.SampleKey] = FixtureRuns.Sample(kind, model, tensors, settings);
            var metadata = new Dictionary<string, string>
            {
                [FixtureRuns.KindKey] = FixtureKinds.Folder(kind),
                [FixtureRuns.SettingsKey] = settings.ToJson(),
                [FixtureRuns.WrittenByKey] = writtenBy,
            };
            SafeTensors.Write(Path.Combine(dir, FixtureRuns.GoldenFile), tensors, metadata);
            Console.WriteLine($"{FixtureKinds.Folder(kind)}: denoised [{string.Join(", ", tensors[FixtureRuns.DenoisedKey].shape)}], " +
                              $"sample [{string.Join(", ", tensors[FixtureRuns.SampleKey].shape)}]");
        }
        return 0;
    }
}
