using System.Globalization;
using System.Text;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.Guidance;
using Diffuse.IO;
using Diffuse.Pipelines;
using ScottPlot;
using TorchSharp;

namespace Diffuse.Bench;

/// <summary>
/// The guidance sweep of issue 6: a class-conditional image model sampled at each classifier-free guidance scale W
/// (labels cycling through the classes), scored by the project's classifier: label accuracy, FCD and the entropy of the
/// predicted-class histogram, the fidelity-diversity trade-off. Writes guidance.md (a table) and guidance.png.
/// </summary>
public static class GuidanceSweep
{
    static readonly double[] DefaultScales = [0, 1, 2, 3, 5, 7];

    public static int Run(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: Diffuse.Bench guidance MODEL-DIR [n=500] [sampler=ddim, or NAME+karras] [steps=50] [out-dir=bench/results] [W ...]");
            return 2;
        }
        string modelDir = args[0];
        int n = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 500;
        string sampler = args.Length > 2 ? args[2] : "ddim";
        int steps = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 50;
        string outDir = args.Length > 4 ? args[4] : "bench/results";
        double[] scales = args.Length > 5 ? args[5..].Select(s => double.Parse(s, CultureInfo.InvariantCulture)).ToArray() : DefaultScales;
        const long seed = 0;

        using var model = ImageModel.Load(modelDir);
        if (!model.IsConditional) throw new DiffuseException($"'{modelDir}' is unconditional; the sweep needs a model trained with --cond class");
        model.UseBFloat16();
        var image = model.Image;
        using var data = ImageDatasets.Load(model.Config.Data.Name, new ImageLoadOptions { ImageSize = image.Height, Channels = image.Channels }, Console.Error.WriteLine);
        var (classifier, validationImages) = ImageEvaluation.Classifier(data, Path.Combine(new ImageLoadOptions().ResolveCacheDir(), "classifiers"), Console.Error.WriteLine);
        using var _ = classifier.Classifier;
        // "NAME+karras": the sampler on Karras et al. 2022 sigmas.
        bool karras = sampler.EndsWith("+karras", StringComparison.Ordinal);
        // As 'sample' and 'eval' create it: x_0 kept in [-1, 1] by every scheduler that can (Schedulers.ForBoundedData).
        var scheduler = model.CreateScheduler(karras ? sampler[..^"+karras".Length] : sampler, c => c with { UseKarrasSigmas = karras || c.UseKarrasSigmas });
        int classes = model.ClassNames.Count;

        var table = new StringBuilder();
        table.AppendLine($"### Classifier-free guidance sweep: {model.Config.Data.Name}, {n} samples per scale (labels cycling through the {classes} classes), {sampler} {steps} steps, bf16, seed {seed}");
        table.AppendLine();
        table.AppendLine("| guidance W | label accuracy | FCD | class entropy (nats) | mean confidence | seconds |");
        table.AppendLine("|---:|---:|---:|---:|---:|---:|");
        var rows = new List<(double W, double Accuracy, double Fcd, double Entropy)>();
        ImageEvalReport? last = null;
        foreach (double w in scales)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var conditioning = Conditioning.Cycling(n, classes, w);
            using var generator = new torch.Generator((ulong)seed);
            using var samples = model.Sample(n, scheduler, steps, generator, conditioning);
            using var labels = torch.tensor(conditioning.Labels, torch.ScalarType.Int64);
            var report = ImageEvaluation.Score(classifier, validationImages, samples, data, seed, labels);
            last = report;
            double seconds = clock.Elapsed.TotalSeconds;
            var s = report.Samples;
            rows.Add((w, report.LabelAccuracy!.Value, s.Fcd, s.ClassEntropy));
            string line = $"| {w:0.##} | {report.LabelAccuracy:P2} | {s.Fcd:F3} | {s.ClassEntropy:F4} | {s.MeanConfidence:F4} | {seconds:F0} |";
            table.AppendLine(line);
            Console.Error.WriteLine(line);
            NativeMemory.ReleaseFreed();
        }
        if (last is not null)
        {
            table.AppendLine();
            table.AppendLine($"Real-vs-real floor at {last.Floor.Count} images: FCD {last.Floor.Fcd:F3}, class entropy {last.Floor.ClassEntropy:F4} (ln {classes} = {Math.Log(classes):F4}); " +
                             $"classifier accuracy on held-out real images {last.ClassifierAccuracy:P2}.");
        }

        var plot = new Plot();
        var xs = rows.Select(r => r.W).ToArray();
        var accuracy = plot.Add.Scatter(xs, rows.Select(r => 100 * r.Accuracy).ToArray());
        accuracy.LegendText = "label accuracy (%)";
        var fcd = plot.Add.Scatter(xs, rows.Select(r => r.Fcd).ToArray());
        fcd.LegendText = "FCD (right axis)";
        fcd.Axes.YAxis = plot.Axes.Right;
        plot.Title($"Classifier-free guidance on {model.Config.Data.Name}: fidelity vs diversity ({n} samples per W)");
        plot.XLabel("guidance scale W");
        plot.Axes.Left.Label.Text = "label accuracy (%)";
        plot.Axes.Right.Label.Text = "FCD (lower is better)";
        plot.ShowLegend(Alignment.LowerRight);
        Directory.CreateDirectory(outDir);
        AtomicFile.WriteAllBytes(Path.Combine(outDir, "guidance.png"), plot.GetImageBytes(900, 600, ImageFormat.Png));
        AtomicFile.WriteAllText(Path.Combine(outDir, "guidance.md"), table.ToString());
        Console.WriteLine(table);
        return 0;
    }
}
