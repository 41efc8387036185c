using Diffuse.Data;
using Diffuse.Evaluation;
using Diffuse.IO;
using Diffuse.Likelihood;
using Diffuse.Pipelines;
using Diffuse.Training;
using TorchSharp;

namespace Diffuse.Cli.Commands;

public sealed class EvalCommand : ICommand
{
    public string Name => "eval";
    public string Summary => "score a model: FCD, confidence and class entropy for images; sliced Wasserstein distance for points";
    public string Help => $"""
        diffuse eval --model runs/mnist [--n 10000] [options]      (images)
        diffuse eval --model runs/moons [--n 10000] [options]      (2-D points)
        diffuse eval --model runs/mnist --nll [--nll-images 100] [options]   (images: likelihoods)

        Images: the FCD (Fréchet Classifier Distance: Fréchet distance between Gaussians fitted to the
        features of a small CNN trained on the dataset's real images; NOT Inception FID) of N samples
        against N real images, beside the real-vs-real floor; the classifier's mean confidence on the
        samples and the entropy of its predicted-class histogram (mode coverage, at most ln 10 = 2.303).
        The classifier is trained on first use (about 1.5 min for mnist) and cached.
        Points: the sliced Wasserstein-1 distance (SWD) to fresh data of the samples, of a second draw
        of the data (the noise floor) and of a Gaussian fitted to the data (a baseline).

          --model DIR          a model folder written by 'diffuse train'
          --n N                samples to score (default 10000)
          --data NAME          images: the labelled dataset to score against (default: the model's)
          --precision P        images: fp32 | bf16, the network's arithmetic while sampling (default bf16)
          --batch-size N       images: sampled together (default {ImageModel.DefaultBatchSize})
          --grid FILE          images: also write the first 64 samples as a PNG grid
          --cache-dir DIR      images: dataset and classifier cache (default ~/.cache/diffuse)
          --data-dir DIR       images: an existing copy of mnist / fashion-mnist
          --projections K      points: random directions of the SWD (default 512)
        {SamplerOptions.HelpText}
          --guidance W         class-conditional models: the samples' labels cycle through the classes (balanced), drawn
                               with classifier-free guidance W (default 1, see 'diffuse sample'); the report adds the label
                               accuracy, the share of samples the classifier labels as the requested class
          --guidance-rescale R as for 'diffuse sample' (default 0)
        {NllOptions.HelpText}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv,
            ["model", "n", "projections", "data", "precision", "batch-size", "grid", "cache-dir", "data-dir", "guidance", "guidance-rescale", .. SamplerOptions.ValueNames, .. NllOptions.ValueNames],
            [.. SamplerOptions.FlagNames, .. NllOptions.FlagNames]);
        string modelDir = a.Require("model");
        var config = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
        if (a.Has("nll")) return EvalNll(a, modelDir, config, output);
        NllOptions.RefuseWithoutNll(a);
        int n = a.Int("n", 10_000, 2, 10_000_000);
        if (config.IsImage) return EvalImages(a, modelDir, n, output);
        foreach (var name in new[] { "data", "precision", "batch-size", "grid", "cache-dir", "data-dir", "guidance", "guidance-rescale" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies to image models only");
        int projections = a.Int("projections", 512, 1, 100_000);
        var options = SamplerOptions.From(a);
        using var model = PointModel.Load(modelDir, options.UseEma);
        var scores = Score(model, options, n, projections);
        Outputs.PrintScores(output, scores, $"{options.Sampler}, {options.StepsFor(model)} steps", n);
        return Cli.Ok;
    }

    static int EvalImages(Args a, string modelDir, int n, TextWriter output)
    {
        if (a.Get("projections") is not null) throw new UsageException("--projections applies to models of 2-D points only");
        string? grid = a.Get("grid");
        if (grid is not null && !grid.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--grid must end in .png, got '{grid}'");
        var options = SamplerOptions.From(a, SamplerOptions.DefaultImageSampler);
        var guidance = GuidanceOptions.From(a, allowClass: false);
        var precision = ImageOptions.Precision(a);
        using var model = ImageOptions.Load(modelDir, options, precision, a);
        var conditioning = guidance.ForEval(model, n);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        var report = Evaluate(model, a.Get("data") ?? model.Config.Data.Name, n, options, load, grid, output, conditioning);
        string label = conditioning is null ? "" : $", guidance {guidance.Scale:0.###}" + (guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "");
        Outputs.PrintImageScores(output, report, $"{options.Sampler}, {options.StepsFor(model)} steps, {precision}{label}");
        return Cli.Ok;
    }

    static int EvalNll(Args a, string modelDir, ModelConfig config, TextWriter output)
    {
        if (!config.IsImage) throw new UsageException("--nll applies to image models only");
        var options = NllOptions.From(a, ImageModel.DefaultBatchSize);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var model = ImageModel.Load(modelDir, options.UseEma);
        using var heldOut = ImageTraining.HeldOut(config, load, line => Console.Error.WriteLine(line));
        int count = (int)Math.Min(options.Images, heldOut.Count);
        if (count < options.Images) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; scoring all of them");
        using var pixels = heldOut.Pixels.narrow(0, 0, count);
        Func<torch.Tensor, torch.Tensor, torch.Tensor> network = (x, t) => model.Network.forward(x, t);
        var scheduler = config.Scheduler;
        ElboEstimate? elbo = null;
        OdeEstimate? ode = null;
        if (options.Elbo)
        {
            using var images = PixelScale.ToSigned(pixels);
            using var generator = new torch.Generator((ulong)options.Seed);
            int batches = (count + options.BatchSize - 1) / options.BatchSize;
            elbo = ProgressDisplay.Run("ELBO", batches * scheduler.NumTrainTimesteps, report =>
                ModelLikelihood.Elbo(network, scheduler, images, DataDecoder.Discretized8Bit, options.BatchSize, generator,
                    new Reporter<int>(done => report(done, "terms"))));
        }
        if (options.Ode)
        {
            using var generator = new torch.Generator((ulong)options.Seed + 1);
            int batches = (count + options.BatchSize - 1) / options.BatchSize;
            const int perBatch = 1000;
            ode = ProgressDisplay.Run("ODE", batches * perBatch, report =>
                ModelLikelihood.ImageOde(network, scheduler, pixels, options.Flow, options.BatchSize, generator,
                    new Reporter<OdeProgress>(p => report(p.Batch * perBatch + (int)(p.Time * perBatch), $"t={p.Time:F3} NFE {p.FunctionEvaluations}"))));
        }
        Outputs.PrintNll(output, config, count, options, elbo, ode);
        return Cli.Ok;
    }

    sealed class Reporter<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    /// <summary>Samples and scores an image model (shared with <c>demo</c>).</summary>
    public static ImageEvalReport Evaluate(ImageModel model, string dataName, int n, SamplerOptions options, ImageLoadOptions load, string? grid, TextWriter output,
        Guidance.Conditioning? conditioning = null)
    {
        var image = model.Image;
        if (conditioning is not null && model.ClassNames.Count == 0)
            throw new UsageException("--guidance needs a class-conditional model (train --cond class)");
        using var data = ImageDatasets.Load(dataName, load with { ImageSize = image.Height, Channels = image.Channels }, line => Console.Error.WriteLine(line));
        string cacheDir = Path.Combine(load.ResolveCacheDir(), "classifiers");
        var (classifier, validationImages) = ImageEvaluation.Classifier(data, cacheDir, line => Console.Error.WriteLine(line),
            new ClassifierReport(p => Console.Error.WriteLine($"quality classifier: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)")));
        using var _ = classifier.Classifier;
        using var generator = new torch.Generator((ulong)options.Seed);
        if (conditioning is not null && !data.ClassNames.SequenceEqual(model.ClassNames))
            throw new UsageException($"'{data.Name}' has other classes than the model ({string.Join(", ", data.ClassNames.Take(5))}... against {string.Join(", ", model.ClassNames.Take(5))}...): the label accuracy needs the model's own data");
        using var samples = options.Sample(model, n, generator, conditioning);
        if (grid is not null)
        {
            using var first = samples.narrow(0, 0, Math.Min(64, n));
            ImageGrid.WritePng(grid, first);
            output.WriteLine($"wrote the first {first.shape[0]} samples to {grid}");
        }
        using var requested = conditioning is null ? null : torch.tensor(conditioning.Labels, torch.ScalarType.Int64);
        return ImageEvaluation.Score(classifier, validationImages, samples, data, options.Seed, requested);
    }

    static SwdScores Score(PointModel model, SamplerOptions options, int n, int projections)
    {
        using var sampleGenerator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, sampleGenerator);
        return SwdScores.Measure(samples, model.Config.Data.Name, projections, options.Seed);
    }

    sealed class ClassifierReport(Action<ClassifierProgress> report) : IProgress<ClassifierProgress>
    {
        public void Report(ClassifierProgress value) => report(value);
    }
}
