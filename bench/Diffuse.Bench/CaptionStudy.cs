using System.Globalization;
using System.Text;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// Captions that say more than the class: MNIST written as an image folder (one sub-folder per digit) with a captions.tsv
/// naming each digit and its stroke, thick or thin (ink, the mean pixel value, above or below its digit's median), in
/// two wordings per image. A text-conditional model trained on it is then scored on both: the quality classifier's digit
/// accuracy, and how often the samples of a "thick" prompt carry more ink than the digit's real median (and "thin" less).
/// </summary>
public static class CaptionStudy
{
    static readonly string[] Words = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

    static string[] CaptionsOf(int digit, bool thick) =>
    [
        $"a {(thick ? "thick" : "thin")} handwritten {Words[digit]}",
        $"the digit {digit} in a {(thick ? "heavy" : "light")} stroke",
    ];

    public static int Run(string[] args)
    {
        if (args.Length >= 2 && args[0] == "write") return Write(args[1]);
        if (args.Length >= 2 && args[0] == "score") return Score(args[1], Int(args, 2, 50), Double(args, 3, 3), Int(args, 4, 20));
        Console.Error.WriteLine("usage: Diffuse.Bench captions write OUT-DIR                  (MNIST as a folder with a captions.tsv of digit and stroke)");
        Console.Error.WriteLine("       Diffuse.Bench captions score MODEL-DIR [n=50] [W=3] [steps=20]   (digit accuracy and stroke agreement per prompt)");
        return 2;
    }

    static int Int(string[] args, int i, int fallback) => args.Length > i ? int.Parse(args[i], CultureInfo.InvariantCulture) : fallback;
    static double Double(string[] args, int i, double fallback) => args.Length > i ? double.Parse(args[i], CultureInfo.InvariantCulture) : fallback;

    /// <summary>The mean pixel value in [0, 1] of each image [N, C, H, W] in [-1, 1].</summary>
    static float[] Ink(Tensor images)
    {
        using var scope = NewDisposeScope();
        return images.add(1).div(2).mean([1, 2, 3]).to(ScalarType.Float32).data<float>().ToArray();
    }

    /// <summary>Each digit's median ink over <paramref name="data"/>.</summary>
    static double[] Medians(ImageDataset data, out float[] ink, out long[] labels)
    {
        using var images = data.ToImages();
        var values = Ink(images);
        var digits = data.Labels.data<long>().ToArray();
        ink = values;
        labels = digits;
        return Enumerable.Range(0, 10).Select(d =>
        {
            var own = values.Where((_, i) => digits[i] == d).Order().ToArray();
            return own.Length % 2 == 1 ? own[own.Length / 2] : (own[own.Length / 2 - 1] + own[own.Length / 2]) / 2.0;
        }).ToArray();
    }

    static int Write(string outDir)
    {
        if (Directory.Exists(outDir) && Directory.EnumerateFileSystemEntries(outDir).Any())
            throw new DiffuseException($"'{outDir}' is not empty");
        using var mnist = ImageDatasets.Load("mnist", new ImageLoadOptions(), Console.Error.WriteLine);
        var medians = Medians(mnist, out var ink, out var labels);
        var lines = new List<string> { "# MNIST digits with their stroke: thick (ink at or above the digit's median) or thin (Diffuse.Bench captions write)" };
        for (int d = 0; d < 10; d++)
        {
            var indices = Enumerable.Range(0, labels.Length).Where(i => labels[i] == d).Select(i => (long)i).ToArray();
            using var batch = mnist.Batch(indices);
            using var _ = batch.Labels;
            using var images = batch.Images;
            ImageGrid.WriteEach(Path.Combine(outDir, d.ToString(CultureInfo.InvariantCulture)), images);
            for (int k = 0; k < indices.Length; k++)
                foreach (var caption in CaptionsOf(d, ink[indices[k]] >= medians[d]))
                    lines.Add($"{d}/{k:D6}.png\t{caption}");
        }
        File.WriteAllLines(Path.Combine(outDir, ImageDatasets.CaptionsFile), lines);
        Console.WriteLine($"wrote {labels.Length} images and {lines.Count - 1} captions to {outDir}; median ink per digit: {string.Join(" ", medians.Select(m => m.ToString("F3", CultureInfo.InvariantCulture)))}");
        return 0;
    }

    static int Score(string modelDir, int n, double scale, int steps)
    {
        using var model = ImageModel.Load(modelDir);
        if (!model.IsTextConditional) throw new DiffuseException($"'{modelDir}' is not text-conditional");
        model.UseBFloat16();
        using var mnist = ImageDatasets.Load("mnist", new ImageLoadOptions(), Console.Error.WriteLine);
        var medians = Medians(mnist, out _, out _);
        var (classifier, _) = ImageEvaluation.Classifier(mnist, Path.Combine(new ImageLoadOptions().ResolveCacheDir(), "classifiers"), Console.Error.WriteLine);
        using var _classifier = classifier.Classifier;
        var scheduler = model.CreateScheduler("dpmpp_2m", c => c);
        var table = new StringBuilder();
        table.AppendLine($"### Captions with digit and stroke: {modelDir}, {n} samples per prompt, guidance {scale}, dpmpp_2m {steps} steps, bf16, seed 0");
        table.AppendLine();
        table.AppendLine("| prompt | digit accuracy | mean ink (digit's median) | on the prompt's side of the median |");
        table.AppendLine("|---|---:|---:|---:|");
        double accuracySum = 0, sideSum = 0;
        int rows = 0;
        for (int d = 0; d < 10; d++)
        {
            foreach (bool thick in new[] { true, false })
            {
                // The first training wording, and one that no caption uses ("a bold 7" / "a faint 7").
                foreach (var prompt in new[] { CaptionsOf(d, thick)[0], $"a {(thick ? "bold" : "faint")} {d}" })
                {
                    using var scope = NewDisposeScope();
                    using var g = new Generator(0);
                    var samples = model.Sample(n, scheduler, steps, g, TextConditioning.Single(n, prompt, scale));
                    var wanted = full(n, (long)d, ScalarType.Int64);
                    double accuracy = ImageQuality.LabelAccuracy(classifier.Classifier, samples, wanted);
                    var ink = Ink(samples);
                    double side = ink.Count(v => thick ? v >= medians[d] : v < medians[d]) / (double)n;
                    table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| \"{prompt}\" | {accuracy:P1} | {ink.Average():F3} ({medians[d]:F3}) | {side:P1} |"));
                    Console.Error.WriteLine($"{prompt}: digit {accuracy:P1}, stroke {side:P1}");
                    accuracySum += accuracy;
                    sideSum += side;
                    rows++;
                }
            }
        }
        table.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| **all {rows} prompts** | **{accuracySum / rows:P2}** | | **{sideSum / rows:P2}** |"));
        Console.WriteLine(table.ToString());
        return 0;
    }
}
