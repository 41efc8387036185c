using System.Diagnostics;
using Diffuse.Data;
using Diffuse.Evaluation;

namespace Diffuse.Cli;

/// <summary><c>diffuse eval --cas --synthetic DIR --data NAME</c>: the Classification Accuracy Score of a labelled synthetic folder.</summary>
public static class CasCommand
{
    public const string HelpText = """
          --cas                the Classification Accuracy Score (Ravuri & Vinyals 2019) instead: train the quality
                               classifier's architecture on --synthetic only, test it on --data's real validation split,
                               beside the same recipe and seed trained on as many real training images (no --model)
          --synthetic DIR      with --cas: a labelled folder, one sub-folder per class (as 'diffuse export' writes)
        """;

    static readonly string[] Allowed = ["synthetic", "data", "cache-dir", "data-dir", "seed"];

    public static int Run(Args a, TextWriter output)
    {
        if (!a.Has("cas")) throw new UsageException("--synthetic applies with --cas only");
        string synthetic = a.Require("synthetic");
        string data = a.Get("data") ?? throw new UsageException("--cas needs --data NAME, the real dataset to test on (mnist, fashion-mnist or a folder)");
        if (a.Get("model") is not null) throw new UsageException("--cas scores the images in --synthetic; --model does not apply (write the folder with 'diffuse export')");
        foreach (var name in (string[])["n", "projections", "precision", "batch-size", "grid", "inpaint", "jump-length", "resample", "img2img", "guidance", "guidance-rescale",
                     "classifier", "classifier-scale", "sampler", "steps", "eta", "weights", "noise", "snr", "corrector-steps", "step-size", "rtol", "atol", .. NllOptions.ValueNames])
            if (!Allowed.Contains(name) && a.Get(name) is not null) throw new UsageException($"--{name} does not apply with --cas");
        if (a.Has("nll") || a.Has("karras")) throw new UsageException($"--{(a.Has("nll") ? "nll" : "karras")} does not apply with --cas");
        if (!Directory.Exists(synthetic)) throw new UsageException($"--synthetic '{synthetic}' is not a folder");
        long seed = a.Long("seed", 0);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var real = ImageDatasets.Load(data, load, line => Console.Error.WriteLine($"warning: {line}"));
        using var images = ImageDatasets.Load(synthetic, load with { ImageSize = real.Height, Channels = real.Channels }, line => Console.Error.WriteLine($"warning: {line}"));
        var clock = Stopwatch.StartNew();
        var report = ClassificationAccuracyScore.Measure(images, real, seed, (what, p) =>
            Console.Error.WriteLine($"classifier on {what} images: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, real validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)"));
        output.WriteLine($"Classification Accuracy Score on {report.Dataset} ({report.TestImages} real validation images; the quality classifier's recipe, seed {seed}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine($"  trained on {report.SyntheticImages,6} synthetic images  {report.SyntheticAccuracy,8:P2}   (CAS, {synthetic})");
        output.WriteLine($"  trained on {report.RealTrainImages,6} real images       {report.RealAccuracy,8:P2}   (the same recipe on real training images)");
        return Cli.Ok;
    }
}
