using System.Text.Json.Nodes;
using Diffuse.IO;
using Diffuse.Tests.Data;
using Diffuse.Tests.IO;
using SkiaSharp;
using Xunit;
using static Diffuse.Tests.Cli.CliHarness;

namespace Diffuse.Tests.Cli;

public class DemoCliTests
{
    /// <summary>
    /// The image demo end to end on a small MNIST-format folder, two training steps: its model is class-conditional
    /// (the labels of the data, 10% null labels), samples.png has one row per digit, and the scores carry the label accuracy.
    /// </summary>
    [Fact]
    public void TheImageDemoTrainsAClassConditionalModelAndDrawsOneRowPerDigit()
    {
        using var folder = new TempFolder();
        string data = Path.Combine(folder.Path, "idx"), run = Path.Combine(folder.Path, "run");
        Directory.CreateDirectory(data);
        // The demo reads MNIST by name, so the folder holds as many images as the package (10,000), of 10 synthetic classes.
        SyntheticImages.WriteIdxPair(data, "train", 10_000, 28, 28, 10);

        var result = RunOk("demo", "--data", "mnist", "--data-dir", data, "--out", run, "--steps", "2", "--n", "20", "--cache-dir", Path.Combine(folder.Path, "cache"));

        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(run, ModelDirectory.ConfigFile)))!;
        Assert.Equal(10, (int)config["network"]!["num_classes"]!);
        Assert.Equal(0.1, (double)config["training"]!["cond_drop"]!);
        Assert.Contains("wrote 70 generated images", result.Stdout);
        Assert.Contains("one row per class", result.Stdout);
        Assert.Contains("label accuracy", result.Stdout);
        Assert.Contains("(20 samples, dpmpp_2m_sde (Karras sigmas), 20 steps, guidance 1, bf16", result.Stdout);
        using var grid = SKBitmap.Decode(Path.Combine(run, "samples.png"));
        Assert.Equal((7 * (28 + 2) + 2, 10 * (28 + 2) + 2), (grid.Width, grid.Height));
    }
}
