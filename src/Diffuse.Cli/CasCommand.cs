using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Training;

namespace Diffuse.Cli;

/// <summary><c>diffuse eval --cas --synthetic DIR --data NAME</c>: the Classification Accuracy Score of a labelled synthetic folder.</summary>
public static class CasCommand
{
    public const string HelpText = """
          --cas                the Classification Accuracy Score (Ravuri & Vinyals 2019) instead: train the quality
                               classifier's architecture on --synthetic only, test it on --data's real validation split,
                               beside the same recipe and seed trained on as many real training images (no --model)
          --synthetic DIR      with --cas: a labelled folder, one sub-folder per class (as 'diffuse export' writes)
          --model DIR          with --cas: the model that made --synthetic; the real images are then its own split:
                               the test images are those it held out (never trained on) and the real baseline draws
                               from its training images (--data defaults to the model's data)
        """;

    static readonly string[] Allowed = ["synthetic", "data", "model", "cache-dir", "data-dir", "seed"];

    public static int Run(Args a, TextWriter output)
    {
        if (!a.Has("cas")) throw new UsageException("--synthetic applies with --cas only");
        string synthetic = a.Require("synthetic");
        string? modelDir = a.Get("model");
        ModelConfig? config = null;
        if (modelDir is not null)
        {
            ModelDirectory.RequireModel(modelDir);
            config = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
            if (config.Data.Image is null) throw new UsageException($"'{modelDir}' is a model of 2-D points; --cas scores image models");
            if (a.Get("data") is { } other && other != config.Data.Name)
                throw new UsageException($"'{modelDir}' was trained on '{config.Data.Name}', not '{other}': drop --data to test on the images it held out");
        }
        string data = a.Get("data") ?? config?.Data.Name ?? throw new UsageException("--cas needs --data NAME, the real dataset to test on (mnist, fashion-mnist or a folder), or --model DIR, the model that made the images");
        foreach (var name in (string[])["n", "projections", "precision", "batch-size", "grid", "inpaint", "jump-length", "resample", "img2img", "guidance", "guidance-rescale",
                     "classifier", "classifier-scale", "sampler", "steps", "eta", "weights", "noise", "snr", "corrector-steps", "step-size", "rtol", "atol", .. NllSettings.ValueNames])
            if (!Allowed.Contains(name) && a.Get(name) is not null) throw new UsageException($"--{name} does not apply with --cas");
        if (a.Has("nll") || a.Has("karras")) throw new UsageException($"--{(a.Has("nll") ? "nll" : "karras")} does not apply with --cas");
        if (!Directory.Exists(synthetic)) throw new UsageException($"--synthetic '{synthetic}' is not a folder");
        long seed = a.Long("seed", 0);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        Action<string> warn = line => Console.Error.WriteLine($"warning: {line}");
        Action<string, ClassifierProgress> progress = (what, p) =>
            Console.Error.WriteLine($"classifier on {what} images: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, real validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)");
        var clock = Stopwatch.StartNew();
        CasReport report;
        string tested;
        if (config is not null)
        {
            using var split = ImageTraining.RunSplit(config, load, warn);
            using var images = ImageDatasets.Load(synthetic, load with { ImageSize = split.Validation.Height, Channels = split.Validation.Channels }, warn);
            report = ClassificationAccuracyScore.Measure(images, config.Data.Name, split.Train, split.Validation, seed, progress);
            tested = $"real images held out by {modelDir}";
        }
        else
        {
            using var real = ImageDatasets.Load(data, load, warn);
            using var images = ImageDatasets.Load(synthetic, load with { ImageSize = real.Height, Channels = real.Channels }, warn);
            report = ClassificationAccuracyScore.Measure(images, real, seed, progress);
            tested = "real validation images";
        }
        output.WriteLine($"Classification Accuracy Score on {report.Dataset} ({report.TestImages} {tested}; the quality classifier's recipe, seed {seed}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine($"  trained on {report.SyntheticImages,6} synthetic images  {report.SyntheticAccuracy,8:P2}   (CAS, {synthetic})");
        output.WriteLine($"  trained on {report.RealTrainImages,6} real images       {report.RealAccuracy,8:P2}   (the same recipe on real training images)");
        return Cli.Ok;
    }
}
