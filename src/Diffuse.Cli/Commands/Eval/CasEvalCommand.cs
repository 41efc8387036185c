using System.CommandLine;
using System.Diagnostics;
using Diffuse.Configuration;
using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Training;

namespace Diffuse.Cli.Commands;

/// <summary><c>diffuse eval cas</c>: the Classification Accuracy Score of a labelled synthetic folder.</summary>
public sealed class CasEvalCommand : DiffuseCommand
{
    readonly Option<string?> synthetic = Opt.Text("--synthetic", "a labelled folder, one sub-folder per class (as 'diffuse export' writes)", true, "DIR");
    readonly Option<string?> data = TrainingOptions.Data("the real dataset to test on: mnist, fashion-mnist or a folder (default: --model's data)");
    readonly Option<string?> modelDir = Common.Model(
        "the model that made --synthetic: the test images are then those it held out (never trained on), and the real baseline draws from its training images", required: false);
    readonly Option<long> seed = Common.Seed("seed of both classifiers' training");
    readonly Option<string?> cacheDir = Common.CacheDir("where datasets are cached (default ~/.cache/diffuse)");
    readonly Option<string?> dataDir = Common.DataDir();

    public CasEvalCommand() : base("cas", """
        the Classification Accuracy Score (Ravuri & Vinyals 2019): train the quality classifier's architecture on the synthetic images only, test it on real validation images, beside the same recipe and seed trained on as many real training images

        diffuse eval cas --synthetic synth/ --data mnist
        diffuse eval cas --synthetic synth/ --model runs/mnist-cond      (the paper's protocol: the model's own held-out images)
        """)
    {
        this.AddOptions(synthetic, data, modelDir, seed, cacheDir, dataDir);
        this.Check(r =>
        {
            if (!r.Given(data) && !r.Given(modelDir))
                throw new UsageException("'eval cas' needs --data NAME, the real dataset to test on (mnist, fashion-mnist or a folder), or --model DIR, the model that made the images");
            if (!Directory.Exists(r.GetValue(synthetic))) throw new UsageException($"--synthetic '{r.GetValue(synthetic)}' is not a folder");
        });
        SetAction(Run);
    }

    int Run(ParseResult result)
    {
        string folder = result.GetValue(synthetic)!;
        string? dir = result.GetValue(modelDir);
        ModelConfig? config = null;
        if (dir is not null)
        {
            ModelDirectory.RequireModel(dir);
            config = Common.ReadConfig(dir);
            if (config.Data.Image is null) throw new UsageException($"'{dir}' is a model of 2-D points; 'eval cas' scores image models");
            if (result.GetValue(data) is { } other && other != config.Data.Name)
                throw new UsageException($"'{dir}' was trained on '{config.Data.Name}', not '{other}': drop --data to test on the images it held out");
        }
        long seedValue = result.GetValue(seed);
        var load = new ImageLoadOptions { CacheDir = result.GetValue(cacheDir), DataDir = result.GetValue(dataDir) };
        Action<string> warn = line => Console.Error.WriteLine($"warning: {line}");
        Action<string, ClassifierProgress> progress = (what, p) =>
            Console.Error.WriteLine($"classifier on {what} images: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, real validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)");
        var clock = Stopwatch.StartNew();
        CasReport report;
        string tested;
        if (config is not null)
        {
            using var split = ImageTraining.RunSplit(config, load, warn);
            using var images = ImageDatasets.Load(folder, load with { ImageSize = split.Validation.Height, Channels = split.Validation.Channels }, warn);
            report = ClassificationAccuracyScore.Measure(images, config.Data.Name, split.Train, split.Validation, seedValue, progress);
            tested = $"real images held out by {dir}";
        }
        else
        {
            using var real = ImageDatasets.Load(result.GetValue(data)!, load, warn);
            using var images = ImageDatasets.Load(folder, load with { ImageSize = real.Height, Channels = real.Channels }, warn);
            report = ClassificationAccuracyScore.Measure(images, real, seedValue, progress);
            tested = "real validation images";
        }
        var output = result.Output();
        output.WriteLine($"Classification Accuracy Score on {report.Dataset} ({report.TestImages} {tested}; the quality classifier's recipe, seed {seedValue}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine($"  trained on {report.SyntheticImages,6} synthetic images  {report.SyntheticAccuracy,8:P2}   (CAS, {folder})");
        output.WriteLine($"  trained on {report.RealTrainImages,6} real images       {report.RealAccuracy,8:P2}   (the same recipe on real training images)");
        return Cli.Ok;
    }
}
