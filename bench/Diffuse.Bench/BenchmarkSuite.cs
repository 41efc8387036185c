using Diffuse.Configuration;
using System.Runtime.InteropServices;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Diffuse.IO;
using Diffuse.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Bench;

/// <summary>
/// The performance suite of issue 9 in one run: the machine's fp32 and bf16 matmul and 3×3 conv peaks;
/// per U-Net preset, precision and batch the forward time and its achieved GFLOP/s
/// (<see cref="FlopCount"/>) as a fraction of the peaks, training and sampling images/s; the framework
/// overhead; the peak resident memory. Prints markdown tables and writes suite.md, suite.json and
/// configs/&lt;preset&gt;.json (for the PyTorch peer, bench/peer/) to the output folder.
/// Usage: suite OUT [--threads N] [--repeats N] [--presets tiny,small] [--batches 64] [--precisions fp32,bf16]
///        [--train-steps N] [--sample-steps N] [--configs-only]
/// (--configs-only: write configs/ and presets.json, the parameter and FLOP counts, and stop).
/// </summary>
public static class BenchmarkSuite
{
    sealed record Options(string Output, int? Threads, int Repeats, string[] Presets, int[] Batches, string[] Precisions, int TrainSteps, int SampleSteps, bool ConfigsOnly = false);

    public sealed record Peak(string Op, string Precision, string Shape, double Gflop, double Seconds, double GflopPerSecond);
    public sealed record PresetInfo(string Preset, long Parameters, long ForwardFlopsPerImage, double ForwardGflopPerImage, double ConvolutionGflopPerImage, double AttentionGflopPerImage, double LinearGflopPerImage);
    public sealed record Row(string Preset, string Precision, int Batch, double ForwardSeconds, double ForwardGflopPerSecond,
        double ConvPeakFraction, double MatmulPeakFraction, double? TrainImagesPerSecond, double SampleImagesPerSecond, int SampleSteps,
        string? Failure = null);
    public sealed record Overhead(string Preset, string Precision, int Batch, double ForwardSeconds, double MinimalWorkSeconds, double BatchOneSeconds,
        double MinimalWorkShare, double BatchOneShare);
    public sealed record Report(string Date, int Threads, int Repeats, int TrainSteps, int SampleSteps, string TorchSharp, List<Peak> Peaks,
        List<PresetInfo> Presets, List<Row> Rows, List<Overhead> Overhead, long PeakResidentBytes, string[] Notes);

    static readonly string[] Notes =
    [
        "FLOPs: convolutions, the attention matmuls (QK^T and AV) and linear layers, a multiply-add = 2 FLOPs; norms, activations, softmax, bias adds and resampling are not counted (FlopCount).",
        "Peaks: best of the repeats after one warm-up, NCHW tensors; a U-Net forward is conv-dominated, so its reference is the best conv peak of its precision (the matmul fraction is printed beside it).",
        "Forward: eval mode, no_grad, network weights and input in the row's precision; best of the repeats after one warm-up.",
        "Training: Trainer.TrainStep (AdamW, eps MSE loss, gradient clipping, EMA) on random images, after one warm-up step; bf16 rows train with --precision bf16 (bfloat16 passes on a working copy, fp32 master weights and AdamW state).",
        "Sampling: the DDIM loop (network in the row's precision, scheduler in fp32), after one warm-up forward pass.",
        "Overhead: TorchSharp 0.107 exposes no libtorch profiler, so the time outside kernels is estimated from the same network running the same sequence of ops with almost no work in them: one image of the smallest size the levels allow (minimal-work share = its forward time / the batch's forward time, the main estimate); the batch-1 forward at full size over the batch's is an upper bound (its kernels still do 1/B of the work).",
        "Memory: the process's peak resident set (VmHWM) over the whole run.",
    ];

    public static int Run(string[] args)
    {
        Options o;
        try { o = Parse(args); }
        catch (DiffuseException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        if (o.Threads is int threads) torch.set_num_threads(threads);
        Directory.CreateDirectory(Path.Combine(o.Output, "configs"));
        Console.WriteLine($"threads {torch.get_num_threads()}, repeats {o.Repeats}, presets {string.Join(",", o.Presets)}, batches {string.Join(",", o.Batches)}");

        var presets = o.Presets.Select(name => Describe(name, o.Output)).ToList();
        File.WriteAllText(Path.Combine(o.Output, "presets.json"), JsonSerializer.Serialize(presets, Json.Options));
        if (o.ConfigsOnly) return 0;

        var peaks = MeasurePeaks(o);
        var rows = new List<Row>();
        var overhead = new List<Overhead>();
        foreach (string name in o.Presets)
            foreach (string precision in o.Precisions)
            {
                rows.AddRange(o.Batches.Select(batch => MeasureRowOrFailure(name, precision, batch, peaks, o)));
                try
                {
                    overhead.Add(MeasureOverhead(name, UNetConfig.Preset(name), precision, o));
                }
                catch (Exception e) when (e is DiffuseException or ExternalException or InvalidOperationException or ArgumentException)
                {
                    Console.WriteLine($"{name} {precision} overhead: failed ({OneLine(e)}); going on");
                }
            }
        var report = new Report(DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture), torch.get_num_threads(), o.Repeats,
            o.TrainSteps, o.SampleSteps, typeof(torch).Assembly.GetName().Version?.ToString() ?? "?", peaks, presets, rows, overhead, PeakResidentBytes(), Notes);
        string markdown = Markdown(report);
        Console.WriteLine();
        Console.Write(markdown);
        File.WriteAllText(Path.Combine(o.Output, "suite.md"), markdown);
        File.WriteAllText(Path.Combine(o.Output, "suite.json"), JsonSerializer.Serialize(report, Json.Options));
        Console.WriteLine($"wrote {Path.Combine(o.Output, "suite.md")}, suite.json and configs/");
        return 0;
    }

    /// <summary>Writes configs/&lt;preset&gt;.json (the peer's input) and counts the preset's parameters and FLOPs.</summary>
    static PresetInfo Describe(string name, string output)
    {
        var config = UNetConfig.Preset(name);
        File.WriteAllText(Path.Combine(output, "configs", $"{name}.json"), JsonSerializer.Serialize(config, Json.Options));
        var perImage = FlopCount.UNet2D(config, 1);
        using var probe = new UNet2D(config);
        Console.WriteLine($"{name}: {probe.ParameterCount():N0} parameters, {perImage.Total:N0} forward FLOPs per image");
        return new PresetInfo(name, probe.ParameterCount(), perImage.Total, perImage.Total / 1e9, perImage.Of(FlopKind.Convolution) / 1e9,
            perImage.Of(FlopKind.AttentionMatmul) / 1e9, perImage.Of(FlopKind.Linear) / 1e9);
    }

    /// <summary>A row, or (when a measurement throws: a NaN loss, a native error) a row that says what failed, so that one
    /// failing row does not lose the others.</summary>
    static Row MeasureRowOrFailure(string name, string precision, int batch, List<Peak> peaks, Options o)
    {
        try
        {
            return MeasureRow(name, precision, batch, peaks, o);
        }
        catch (Exception e) when (e is DiffuseException or ExternalException or InvalidOperationException or ArgumentException)
        {
            Console.WriteLine($"{name} {precision} batch {batch}: failed ({OneLine(e)}); going on");
            return new Row(name, precision, batch, double.NaN, double.NaN, double.NaN, double.NaN, null, double.NaN, o.SampleSteps, OneLine(e));
        }
    }

    static string OneLine(Exception e) => e.Message.Split('\n')[0].Trim();

    static Row MeasureRow(string name, string precision, int batch, List<Peak> peaks, Options o)
    {
        var config = UNetConfig.Preset(name);
        var dtype = DType(precision);
        double convPeak = peaks.Where(p => p.Op == "conv3x3" && p.Precision == precision).Max(p => p.GflopPerSecond);
        double matmulPeak = peaks.Where(p => p.Op == "matmul" && p.Precision == precision).Max(p => p.GflopPerSecond);
        double forward = ForwardSeconds(config, batch, dtype, o.Repeats);
        double gflops = FlopCount.UNet2D(config, batch).Total / forward / 1e9;
        double? train = UNetThroughput.TrainImagesPerSecond(config, batch, o.TrainSteps, precision == "bf16" ? TrainingPrecision.Bf16 : TrainingPrecision.Fp32);
        double sample = UNetThroughput.SampleImagesPerSecond(config, batch, o.SampleSteps, dtype);
        var row = new Row(name, precision, batch, forward, gflops, gflops / convPeak, gflops / matmulPeak, train, sample, o.SampleSteps);
        Console.WriteLine($"{name} {precision} batch {batch}: forward {forward * 1e3:F1} ms, {gflops:F1} GFLOP/s ({row.ConvPeakFraction:P0} of the conv peak), " +
            $"train {(train is double t ? $"{t:F1}" : "n/a")} images/s, sample {sample:F2} images/s");
        return row;
    }

    static List<Peak> MeasurePeaks(Options o)
    {
        var peaks = new List<Peak>();
        foreach (string precision in o.Precisions)
        {
            var dtype = DType(precision);
            foreach (int n in new[] { 1024, 2048 })
            {
                using var scope = NewDisposeScope();
                var a = randn(n, n).to(dtype);
                var b = randn(n, n).to(dtype);
                double seconds = BestSeconds(() => { using var c = a.matmul(b); }, o.Repeats);
                peaks.Add(Measured("matmul", precision, $"{n}x{n} @ {n}x{n}", 2.0 * n * n * n, seconds));
            }
            foreach (var (channels, size) in new[] { (64, 28), (128, 14) })
            {
                using var scope = NewDisposeScope();
                const int batch = 64;
                var x = randn(batch, channels, size, size).to(dtype);
                var w = (randn(channels, channels, 3, 3) * 0.05).to(dtype);
                double seconds = BestSeconds(() => { using var y = nn.functional.conv2d(x, w, padding: [1, 1]); }, o.Repeats);
                peaks.Add(Measured("conv3x3", precision, $"{batch}x{channels}x{size}x{size}, {channels}->{channels}",
                    FlopCount.Convolution(batch, channels, channels, 3, size, size), seconds));
            }
        }
        return peaks;

        static Peak Measured(string op, string precision, string shape, double flops, double seconds)
        {
            var peak = new Peak(op, precision, shape, flops / 1e9, seconds, flops / seconds / 1e9);
            Console.WriteLine($"peak {op} {precision} {shape}: {peak.GflopPerSecond:F1} GFLOP/s");
            return peak;
        }
    }

    /// <summary>The best wall time of a no-grad, eval-mode forward pass on a batch, in seconds.</summary>
    static double ForwardSeconds(UNetConfig config, int batch, ScalarType dtype, int repeats)
    {
        using var g = new Generator(0);
        using var model = new UNet2D(config);
        model.ResetParameters(g);
        model.eval();
        if (dtype != ScalarType.Float32) model.to(dtype);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var x = randn([batch, config.InChannels, config.ImageSize, config.ImageSize], generator: g).to(dtype);
        var t = full([batch], 500L, ScalarType.Int64);
        return BestSeconds(() => { using var y = model.forward(x, t); }, repeats);
    }

    static Overhead MeasureOverhead(string name, UNetConfig config, string precision, Options o)
    {
        var dtype = DType(precision);
        int batch = o.Batches.Max();
        double full = ForwardSeconds(config, batch, dtype, o.Repeats);
        var minimal = config.ForImages(config.InChannels, 1 << (config.ChannelMult.Length - 1));
        double minimalWork = ForwardSeconds(minimal, 1, dtype, 3 * o.Repeats);
        double batchOne = ForwardSeconds(config, 1, dtype, 3 * o.Repeats);
        var result = new Overhead(name, precision, batch, full, minimalWork, batchOne, minimalWork / full, batchOne / full);
        Console.WriteLine($"{name} {precision} overhead: minimal-work forward {minimalWork * 1e3:F2} ms = {result.MinimalWorkShare:P1} of the batch-{batch} forward ({full * 1e3:F1} ms); batch-1 bound {result.BatchOneShare:P1}");
        return result;
    }

    static double BestSeconds(Action body, int repeats)
    {
        body(); // warm-up: oneDNN primitive creation, allocator
        double best = double.PositiveInfinity;
        for (int i = 0; i < repeats; i++)
        {
            var clock = Stopwatch.StartNew();
            body();
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        return best;
    }

    /// <summary>VmHWM of /proc/self/status (Linux); elsewhere the runtime's peak working set.</summary>
    static long PeakResidentBytes()
    {
        const string status = "/proc/self/status";
        if (File.Exists(status))
            foreach (string line in File.ReadLines(status))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
        return System.Diagnostics.Process.GetCurrentProcess().PeakWorkingSet64;
    }

    static ScalarType DType(string precision) => precision == "bf16" ? ScalarType.BFloat16 : ScalarType.Float32;

    static string Markdown(Report r)
    {
        var s = new StringBuilder();
        string F(double v, string format = "F1") => v.ToString(format, CultureInfo.InvariantCulture);
        s.AppendLine($"Benchmark suite, {r.Date}, {r.Threads} threads, best of {r.Repeats} repeats, TorchSharp {r.TorchSharp}").AppendLine();
        s.AppendLine("| peak | precision | shape | GFLOP/s |").AppendLine("|---|---|---|---:|");
        foreach (var p in r.Peaks) s.AppendLine($"| {p.Op} | {p.Precision} | {p.Shape} | {F(p.GflopPerSecond)} |");
        s.AppendLine().AppendLine("| preset | parameters | forward GFLOP/image | conv | attention | linear |").AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var p in r.Presets)
            s.AppendLine($"| {p.Preset} | {p.Parameters:N0} | {F(p.ForwardGflopPerImage, "F3")} | {F(p.ConvolutionGflopPerImage, "F3")} | {F(p.AttentionGflopPerImage, "F4")} | {F(p.LinearGflopPerImage, "F5")} |");
        s.AppendLine().AppendLine($"| preset | precision | batch | forward ms | GFLOP/s | of conv peak | of matmul peak | train images/s | sample images/s (DDIM {r.SampleSteps}) |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var w in r.Rows)
            if (w.Failure is not null) s.AppendLine($"| {w.Preset} | {w.Precision} | {w.Batch} | failed: {w.Failure} | | | | | |");
            else s.AppendLine($"| {w.Preset} | {w.Precision} | {w.Batch} | {F(w.ForwardSeconds * 1e3)} | {F(w.ForwardGflopPerSecond)} | {F(100 * w.ConvPeakFraction, "F0")}% | " +
                $"{F(100 * w.MatmulPeakFraction, "F0")}% | {(w.TrainImagesPerSecond is double t ? F(t) : "n/a")} | {F(w.SampleImagesPerSecond, "F2")} |");
        s.AppendLine().AppendLine("| preset | precision | batch forward ms | minimal-work forward ms | overhead share | batch-1 forward ms | upper bound |")
            .AppendLine("|---|---|---:|---:|---:|---:|---:|");
        foreach (var v in r.Overhead)
            s.AppendLine($"| {v.Preset} | {v.Precision} | {F(v.ForwardSeconds * 1e3)} | {F(v.MinimalWorkSeconds * 1e3, "F2")} | {F(100 * v.MinimalWorkShare)}% | {F(v.BatchOneSeconds * 1e3, "F2")} | {F(100 * v.BatchOneShare)}% |");
        s.AppendLine().AppendLine($"Peak resident memory: {r.PeakResidentBytes / 1048576.0:F0} MiB.").AppendLine();
        foreach (string note in r.Notes) s.AppendLine($"- {note}");
        return s.ToString();
    }

    static Options Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith("--", StringComparison.Ordinal))
            throw new DiffuseException("suite needs an output folder first: suite OUT [--threads N] [--repeats N] [--presets tiny,small] [--batches 64] [--precisions fp32,bf16] [--train-steps N] [--sample-steps N] [--configs-only]");
        var o = new Options(args[0], null, 3, ["tiny", "small"], [64], ["fp32", "bf16"], 5, 10);
        for (int i = 1; i < args.Length; i++)
        {
            string option = args[i];
            if (option == "--configs-only")
            {
                o = o with { ConfigsOnly = true };
                continue;
            }
            if (i + 1 >= args.Length) throw new DiffuseException($"{option} needs a value");
            string value = args[++i];
            o = option switch
            {
                "--threads" => o with { Threads = Positive(option, value) },
                "--repeats" => o with { Repeats = Positive(option, value) },
                "--train-steps" => o with { TrainSteps = Positive(option, value) },
                "--sample-steps" => o with { SampleSteps = Positive(option, value) },
                "--batches" => o with { Batches = List(value).Select(b => Positive(option, b)).ToArray() },
                "--presets" => o with { Presets = List(value).Select(p => { UNetConfig.Preset(p); return p.ToLowerInvariant(); }).ToArray() },
                "--precisions" => o with { Precisions = List(value).Select(p => p is "fp32" or "bf16" ? p : throw new DiffuseException($"--precisions takes fp32 and bf16, got '{p}'")).ToArray() },
                _ => throw new DiffuseException($"unknown option '{option}'; expected --threads, --repeats, --presets, --batches, --precisions, --train-steps, --sample-steps or --configs-only"),
            };
        }
        return o;

        static string[] List(string value) => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } items
            ? items : throw new DiffuseException($"expected a comma-separated list, got '{value}'");

        static int Positive(string option, string value) =>
            int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new DiffuseException($"{option} needs a positive integer, got '{value}'");
    }
}
