using Diffuse.Configuration;
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
        diffuse eval --model runs/mnist-text --n 1000 --guidance 3 [--prompts FILE]   (text-conditional: label accuracy per prompt)
        diffuse eval --model runs/mnist --nll [--nll-images 100] [options]   (images: likelihoods)
        diffuse eval --model runs/8g --nll [--nll-points 1000] [options]     (points: likelihoods)
        diffuse eval --model runs/mnist --inpaint lower [--n 1000] [--steps 250 --jump-length 10 --resample 10]
        diffuse eval --model runs/mnist --img2img 0.2,0.4,0.6,0.8,1 [--n 1000] [--sampler ddim --steps 50]
        diffuse eval --model runs/sr28 --superres [--n 1000] [--sampler ddim --steps 50] [--cond-noise 0]
        diffuse eval --cascade runs/base14,runs/sr28 [--n 10000] [--cond-noise 25]
        diffuse eval --model runs/mnist --classifier runs/mnist-clf --classifier-scale 3 [--n 1000]   (classifier guidance)
        diffuse eval --cas --synthetic synth/ --data mnist                  (Classification Accuracy Score)

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
        {SamplerSettings.HelpText}
          --guidance W         class-conditional models: the samples' labels cycle through the classes (balanced), drawn
                               with classifier-free guidance W (default 1, see 'diffuse sample'); the report adds the label
                               accuracy, the share of samples the classifier labels as the requested class
          --guidance-rescale R as for 'diffuse sample' (default 0)
        {Prompts.EvalHelpText}
        {ClassifierGuidanceSettings.HelpText}
        {NllSettings.HelpText}
          --inpaint REGION     inpainting instead: cut lower | upper | left | right | center out of --n held-out images,
                               complete them with RePaint (--steps, --jump-length, --resample as 'diffuse inpaint'),
                               and report how often the classifier still gives the original label, beside filling the
                               hole with the mean image; known pixels are checked to be unchanged
          --img2img S1,S2,...  img2img instead: edit --n held-out images at each strength (SDEdit, --sampler and --steps
                               of the whole run, default ddim 50) and report the RMS distance to the input and how often
                               the classifier keeps the input's label
          --superres           super-resolution instead (a model of 'train --task superres'): shrink --n held-out images
                               by the model's scale, upscale them with the model (--sampler, --steps, --cond-noise) and
                               with bicubic interpolation, and report the PSNR against the originals and how often the
                               classifier gives the original's label, for both
        {LoadedCascade.HelpText}
        {CasCommand.HelpText}
        """;

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv,
            ["model", "n", "projections", "data", "precision", "batch-size", "grid", "cache-dir", "data-dir", "inpaint", "jump-length", "resample", "img2img", "guidance", "guidance-rescale", "prompts", "cascade", "cond-noise", "synthetic", .. ClassifierGuidanceSettings.ValueNames, .. SamplerSettings.ValueNames, .. NllSettings.ValueNames],
            ["cas", "superres", .. SamplerSettings.FlagNames, .. NllSettings.FlagNames]);
        if (a.Has("cas") || a.Get("synthetic") is not null) return CasCommand.Run(a, output);
        if (a.Get("cascade") is not null)
        {
            if (a.Get("classifier") is not null) throw new UsageException("--classifier does not apply to --cascade; guide a single model");
            return EvalCascade(a, output);
        }
        string modelDir = a.Require("model");
        var config = ModelConfig.FromJson(ModelDirectory.ReadConfig(modelDir), Path.Combine(modelDir, ModelDirectory.ConfigFile));
        if (!config.IsImage && ClassifierGuidanceSettings.ValueNames.FirstOrDefault(name => a.Get(name) is not null) is { } classifierOption)
            throw new UsageException($"--{classifierOption} applies to image models only");
        if (config.IsImage && a.Get("classifier") is not null && (a.Get("inpaint") is not null || a.Get("img2img") is not null || a.Has("nll")))
            throw new UsageException("--classifier applies to sampling evaluations, not to --inpaint, --img2img or --nll");
        if (a.Get("classifier") is not null && a.Has("superres")) throw new UsageException("--classifier does not apply to --superres");
        if (a.Has("superres")) return EvalSuperRes(a, modelDir, config, output);
        if (a.Get("cond-noise") is not null) throw new UsageException("--cond-noise applies with --superres or --cascade");
        if (config.SuperRes is not null)
            throw new UsageException($"'{modelDir}' is a super-resolution model: score it with --superres, or as the second stage of --cascade BASE,{modelDir}");
        if (a.Get("inpaint") is { } region) return EvalInpaint(a, modelDir, config, region, output);
        if (a.Get("img2img") is { } strengths) return EvalImg2Img(a, modelDir, config, strengths, output);
        foreach (var name in new[] { "jump-length", "resample" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies with --inpaint only");
        if (a.Has("nll")) return EvalNll(a, modelDir, config, output);
        NllSettings.RefuseWithoutNll(a);
        int n = a.Int("n", 10_000, 2, 10_000_000);
        if (config.IsImage) return EvalImages(a, modelDir, config, n, output);
        foreach (var name in new[] { "data", "precision", "batch-size", "grid", "cache-dir", "data-dir", "guidance", "guidance-rescale", "prompts" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies to image models only");
        int projections = a.Int("projections", 512, 1, 100_000);
        var options = SamplerSettings.From(a, SamplerSettings.DefaultFor(config, SamplerSettings.DefaultSampler));
        using var model = PointModel.Load(modelDir, options.UseEma);
        var scores = Score(model, options, n, projections);
        Outputs.PrintScores(output, scores, $"{options.Label(model)}", n);
        return Cli.Ok;
    }

    static int EvalImages(Args a, string modelDir, ModelConfig config, int n, TextWriter output)
    {
        if (a.Get("projections") is not null) throw new UsageException("--projections applies to models of 2-D points only");
        string? grid = a.Get("grid");
        if (grid is not null && !grid.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--grid must end in .png, got '{grid}'");
        var options = SamplerSettings.From(a, SamplerSettings.DefaultFor(config, SamplerSettings.DefaultImageSampler));
        var guidance = GuidanceSettings.From(a, allowClass: false);
        var classifierGuidance = ClassifierGuidanceSettings.From(a);
        var precision = ImageArgs.Precision(a);
        using var model = ImageArgs.Load(modelDir, options, precision, a);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        Prompts.Check(a, model, "prompts");
        if (model.IsTextConditional)
        {
            if (classifierGuidance.Given) throw new UsageException($"--classifier guides an unconditional model; '{model.Directory}' is text-conditional: use --prompts and --guidance");
            return EvalText(a, model, n, options, guidance, precision, load, grid, output);
        }
        // Classifier guidance: labels cycling through the classifier's classes (balanced), scored as the label accuracy.
        using var classifier = classifierGuidance.Given ? classifierGuidance.Attach(model, options, guidance, names => Guidance.Conditioning.Cycling(n, names.Count).Labels) : null;
        var conditioning = classifier is null ? guidance.ForEval(model, n) : null;
        if (classifier is not null) options = options with { UnclippedScheduler = model.ClassifierGuidance!.ClipRange is not null };
        var guided = classifier is null ? null : new GuidedLabels(classifier.Labels, classifier.ClassNames);
        var report = Evaluate(model, a.Get("data") ?? model.Config.Data.Name, n, options, load, grid, output, conditioning, guided: guided);
        string label = conditioning is null ? "" : $", guidance {guidance.Scale:0.###}" + (guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "");
        if (classifier is not null) label = $", classifier scale {classifierGuidance.Scale:0.###}";
        Outputs.PrintImageScores(output, report, $"{options.Label(model)}, {precision}{label}");
        return Cli.Ok;
    }

    /// <summary>
    /// A text-conditional model: ceil(n / P) samples of each of the P labelled prompts, the usual scores, and the label
    /// accuracy of each prompt and over all.
    /// </summary>
    static int EvalText(Args a, ImageModel model, int n, SamplerSettings options, GuidanceSettings guidance, string precision,
        ImageLoadOptions load, string? grid, TextWriter output)
    {
        var prompts = Prompts.ForEval(a, model);
        int perPrompt = (n + prompts.Count - 1) / prompts.Count;
        var text = Guidance.TextConditioning.Rows(prompts.Select(p => p.Prompt).ToArray(), perPrompt, guidance.Scale, guidance.Rescale);
        var labels = prompts.SelectMany(p => Enumerable.Repeat((long)p.Label, perPrompt)).ToArray();
        var perPromptAccuracy = new double[prompts.Count];
        var report = Evaluate(model, a.Get("data") ?? model.Config.Data.Name, text.Prompts.Length, options, load, grid, output, text: text, textLabels: labels,
            inspect: (classifier, samples) =>
            {
                for (int i = 0; i < prompts.Count; i++)
                {
                    using var slice = samples.narrow(0, (long)i * perPrompt, perPrompt);
                    using var wanted = torch.full(perPrompt, (long)prompts[i].Label, torch.ScalarType.Int64);
                    perPromptAccuracy[i] = ImageQuality.LabelAccuracy(classifier.Classifier, slice, wanted);
                }
            });
        string label = $", guidance {guidance.Scale:0.###}" + (guidance.Rescale > 0 ? $", rescale {guidance.Rescale:0.###}" : "");
        Outputs.PrintImageScores(output, report, $"{options.Label(model)}, {precision}{label}", "each prompt's class");
        output.WriteLine($"label accuracy per prompt ({perPrompt} samples each; the classifier agrees with the prompt's class):");
        var names = model.Image.ClassNames;
        for (int i = 0; i < prompts.Count; i++)
            output.WriteLine($"  {perPromptAccuracy[i],8:P1}   {names[prompts[i].Label]}\t\"{prompts[i].Prompt}\"{Prompts.Unknown(model.Tokenizer!, prompts[i].Prompt)}");
        output.WriteLine($"  {report.LabelAccuracy,8:P2}   overall ({text.Prompts.Length} samples, {prompts.Count} prompts)");
        return Cli.Ok;
    }

    /// <summary>The seed of the held-out images that --nll, --inpaint and --img2img score when they take fewer than all.</summary>
    const long HeldOutSubsetSeed = 20261123;

    static int EvalNll(Args a, string modelDir, ModelConfig config, TextWriter output)
    {
        if (config.Sde is { } sde && !a.Has("ode-only"))
            throw new UsageException($"the ELBO needs a discrete-time model; '{modelDir}' is a continuous-time {sde.DisplayName} SDE model: pass --ode-only");
        if (!config.IsImage) return EvalPointNll(a, modelDir, config, output);
        var options = NllSettings.From(a, ImageModel.DefaultBatchSize);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var model = ImageModel.Load(modelDir, options.UseEma);
        using var heldOut = ImageTraining.HeldOut(config, load, line => Console.Error.WriteLine(line));
        int count = (int)Math.Min(options.Images, heldOut.Count);
        if (count < options.Images) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; scoring all of them");
        // A seeded random subset: the held-out split keeps the data's order, which is class by class for MNIST.
        using var subset = heldOut.RandomSubset(count, HeldOutSubsetSeed);
        var pixels = subset.Pixels;
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
                    new SyncProgress<int>(done => report(done, "terms"))));
        }
        if (options.Ode)
        {
            using var generator = new torch.Generator((ulong)options.Seed + 1);
            int batches = (count + options.BatchSize - 1) / options.BatchSize;
            const int perBatch = 1000;
            var view = ScoreModel.For(config, network, config.Sde?.DiscreteSteps ?? scheduler.NumTrainTimesteps);
            ode = ProgressDisplay.Run("ODE", batches * perBatch, report =>
                ModelLikelihood.ImageOde(view.Sde, view.Score, pixels, options.Flow, options.BatchSize, generator,
                    new SyncProgress<OdeProgress>(p => report(p.Batch * perBatch + (int)(p.Time * perBatch), $"t={p.Time:F3} NFE {p.FunctionEvaluations}"))));
        }
        Outputs.PrintNll(output, config, count, options, elbo, ode);
        return Cli.Ok;
    }

    /// <summary>
    /// Nats per dimension of fresh data points in data coordinates: the model scores (x - mean) / scale, so each dimension
    /// adds log scale (the change of variables).
    /// </summary>
    static int EvalPointNll(Args a, string modelDir, ModelConfig config, TextWriter output)
    {
        foreach (var name in new[] { "precision", "cache-dir", "data-dir" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} applies to image models only");
        var options = NllSettings.From(a, 1000, points: true);
        using var model = PointModel.Load(modelDir, options.UseEma);
        var data = config.Data;
        using var scope = torch.NewDisposeScope();
        torch.Tensor points;
        using (var g = new torch.Generator((ulong)options.Seed + 2)) points = Toy2D.Sample(data.Name, options.Images, g);
        var x = (points - torch.tensor(data.Mean)) / data.Scale;
        double logScale = Math.Log(data.Scale);
        Func<torch.Tensor, torch.Tensor, torch.Tensor> network = (xt, t) => model.Network.forward(xt, t);
        var scheduler = config.Scheduler;
        MeanWithError? elbo = null, truth = null;
        OdeEstimate? ode = null;
        if (options.Elbo)
        {
            using var generator = new torch.Generator((ulong)options.Seed);
            int batches = (options.Images + options.BatchSize - 1) / options.BatchSize;
            var bound = ProgressDisplay.Run("ELBO", batches * scheduler.NumTrainTimesteps, report =>
                ModelLikelihood.Elbo(network, scheduler, x, DataDecoder.ContinuousGaussian, options.BatchSize, generator,
                    new SyncProgress<int>(done => report(done, "terms"))));
            // The bound is in bits/dim of the model's coordinates.
            elbo = new MeanWithError(bound.Total.Mean * Math.Log(2) + logScale, bound.Total.StandardError * Math.Log(2));
        }
        if (options.Ode)
        {
            using var generator = new torch.Generator((ulong)options.Seed + 1);
            int batches = (options.Images + options.BatchSize - 1) / options.BatchSize;
            const int perBatch = 1000;
            var view = ScoreModel.For(config, network, config.Sde?.DiscreteSteps ?? scheduler.NumTrainTimesteps);
            ode = ProgressDisplay.Run("ODE", batches * perBatch, report =>
                ModelLikelihood.ContinuousOde(view.Sde, view.Score, x, options.Flow, options.BatchSize, generator, logScale,
                    new SyncProgress<OdeProgress>(p => report(p.Batch * perBatch + (int)(p.Time * perBatch), $"t={p.Time:F3} NFE {p.FunctionEvaluations}"))));
        }
        using (var density = Toy2DDensity.Of(data.Name))
            if (density is not null)
                truth = MeanWithError.Of(-density.LogDensity(points.to_type(torch.ScalarType.Float64)) / points.shape[1]);
        Outputs.PrintPointNll(output, config, options, elbo, ode, truth);
        return Cli.Ok;
    }

    /// <summary>The strength table of img2img on held-out images (<see cref="Editing.Img2ImgEvaluation"/>).</summary>
    static int EvalImg2Img(Args a, string modelDir, ModelConfig config, string strengthList, TextWriter output)
    {
        if (!config.IsImage) throw new UsageException("--img2img applies to image models only");
        if (a.Has("nll")) throw new UsageException("--img2img and --nll exclude each other");
        var strengths = new List<double>();
        foreach (var part in strengthList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!double.TryParse(part, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double s) || !(s > 0 && s <= 1))
                throw new UsageException($"--img2img takes strengths in (0, 1] separated by commas, got '{part}'");
            strengths.Add(s);
        }
        if (strengths.Count == 0) throw new UsageException("--img2img needs at least one strength");
        string sampler = a.Get("sampler") ?? "ddim";
        if (!Sampling.Schedulers.Names.Contains(sampler) || Sampling.Schedulers.Inverts(sampler))
            throw new UsageException($"--img2img takes a scheduler as --sampler, got '{sampler}'");
        int n = a.Int("n", 1000, 1, 10_000_000);
        var precision = ImageArgs.Precision(a);
        using var model = ImageArgs.Load(modelDir, a);
        int steps = a.Int("steps", 50, 1, config.Scheduler.NumTrainTimesteps);
        var scheduler = model.CreateScheduler(sampler);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var data = ImageDatasets.Load(config.Data.Name, load with { ImageSize = model.Image.Height, Channels = model.Image.Channels }, line => Console.Error.WriteLine(line));
        var (classifier, _) = ImageEvaluation.Classifier(data, Path.Combine(load.ResolveCacheDir(), "classifiers"), line => Console.Error.WriteLine(line));
        using var _ = classifier.Classifier;
        using var heldOut = ImageTraining.HeldOut(config, load, line => Console.Error.WriteLine(line));
        int count = (int)Math.Min(n, heldOut.Count);
        using var subset = heldOut.RandomSubset(count, HeldOutSubsetSeed);
        var (pixels, labels) = (subset.Pixels, subset.Labels);
        int total = strengths.Sum(s => steps - Editing.Img2Img.StartStep(steps, s)) * ((count + model.BatchSize - 1) / model.BatchSize);
        var rows = ProgressDisplay.Run("img2img", Math.Max(1, total), r => Editing.Img2ImgEvaluation.Run(model, classifier.Classifier, pixels, labels, scheduler, steps, strengths,
            a.Long("seed", 0), new SyncProgress<(int Done, int Total)>(p => r(p.Done, ""))));
        output.WriteLine($"img2img (SDEdit) of {count} held-out images of {config.Data.Name} ({sampler}, {steps}-step runs, {precision}, seed {a.Long("seed", 0)})");
        output.WriteLine("  strength  steps  RMS distance to input  label agreement");
        foreach (var row in rows)
            output.WriteLine($"  {row.Strength,8:0.###}  {row.Steps,5}  {row.Distance,21:F4}  {row.Agreement,15:P2}");
        return Cli.Ok;
    }

    /// <summary>Inpainting of held-out images scored by label agreement (<see cref="Editing.InpaintingEvaluation"/>).</summary>
    static int EvalInpaint(Args a, string modelDir, ModelConfig config, string regionName, TextWriter output)
    {
        if (!config.IsImage) throw new UsageException("--inpaint applies to image models only");
        if (a.Has("nll")) throw new UsageException("--inpaint and --nll exclude each other");
        foreach (var name in new[] { "sampler", "eta", "noise", "snr", "corrector-steps", "step-size", "rtol", "atol", "grid", "projections", "data" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} does not apply with --inpaint (RePaint takes --steps, --jump-length, --resample)");
        if (a.Has("karras")) throw new UsageException("--karras does not apply with --inpaint");
        Editing.MaskRegion region;
        try { region = Editing.MaskRegions.Parse(regionName); }
        catch (DiffuseException e) { throw new UsageException(e.Message); }
        int n = a.Int("n", 1000, 1, 10_000_000);
        var options = new Editing.RePaintOptions { Steps = a.Int("steps", 250, 1), JumpLength = a.Int("jump-length", 10, 1), Resample = a.Int("resample", 10, 1) };
        try { options.Validate(config.Scheduler.NumTrainTimesteps); }
        catch (DiffuseException e) { throw new UsageException(e.Message); }
        var precision = ImageArgs.Precision(a);
        using var model = ImageArgs.Load(modelDir, a);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var data = ImageDatasets.Load(config.Data.Name, load with { ImageSize = model.Image.Height, Channels = model.Image.Channels }, line => Console.Error.WriteLine(line));
        string cacheDir = Path.Combine(load.ResolveCacheDir(), "classifiers");
        var (classifier, _) = ImageEvaluation.Classifier(data, cacheDir, line => Console.Error.WriteLine(line),
            new SyncProgress<ClassifierProgress>(p => Console.Error.WriteLine($"quality classifier: epoch {p.Epoch}/{p.Epochs}, validation accuracy {p.ValidationAccuracy:P2}")));
        using var _ = classifier.Classifier;
        using var heldOut = ImageTraining.HeldOut(config, load, line => Console.Error.WriteLine(line));
        int count = (int)Math.Min(n, heldOut.Count);
        if (count < n) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; inpainting all of them");
        using var scope = torch.NewDisposeScope();
        using var subset = heldOut.RandomSubset(count, HeldOutSubsetSeed);
        var (pixels, labels) = (subset.Pixels, subset.Labels);
        var meanImage = data.ToImages().mean([0]);
        int perBatch = Editing.RePaint.Schedule(options.Steps, options.JumpLength, options.Resample).Count - 1;
        int total = (int)Math.Min(int.MaxValue, (long)perBatch * ((count + model.BatchSize - 1) / model.BatchSize));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = ProgressDisplay.Run("inpaint", total, r =>
            Editing.InpaintingEvaluation.Run(model, classifier.Classifier, pixels, labels, meanImage, region, options, a.Long("seed", 0),
                new SyncProgress<(int Done, int Total)>(p => r(p.Done, ""))));
        output.WriteLine($"inpainting the {regionName} {(region == Editing.MaskRegion.Center ? "square" : "half")} of {report.Images} held-out images of {config.Data.Name} " +
                         $"(RePaint {options.Steps} steps, jump {options.JumpLength}, resample {options.Resample}: {report.Evaluations} NFE an image; {precision}, seed {a.Long("seed", 0)}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine($"  label agreement      {report.Agreement,8:P2}   (the classifier gives the completion the original's label)");
        output.WriteLine($"  mean-image fill      {report.MeanFillAgreement,8:P2}   (baseline: the hole filled with the data's mean image)");
        output.WriteLine($"  uncut originals      {report.OriginalAccuracy,8:P2}   (the classifier's accuracy on the same images whole)");
        output.WriteLine($"  known pixels         {(report.KnownPixelsIdentical ? "identical to the input" : "CHANGED")}");
        return report.KnownPixelsIdentical ? Cli.Ok : 1;
    }

    /// <summary>Super-resolution of held-out images against bicubic upsampling (<see cref="Editing.SuperResolutionEvaluation"/>).</summary>
    static int EvalSuperRes(Args a, string modelDir, ModelConfig config, TextWriter output)
    {
        if (config.SuperRes is null)
            throw new UsageException($"--superres scores a super-resolution model (train --task superres), but '{modelDir}' is not one");
        foreach (var name in new[] { "inpaint", "img2img", "grid", "projections", "data", "guidance", "guidance-rescale" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} does not apply with --superres");
        if (a.Has("nll")) throw new UsageException("--superres and --nll exclude each other");
        int n = a.Int("n", 1000, 1, 10_000_000);
        int level = a.Int("cond-noise", 0, 0);
        var options = SamplerSettings.From(a, SamplerSettings.DefaultImageSampler);
        if (options.Score is not null)
            throw new UsageException($"super-resolution runs with the schedulers (ddim, ddpm, dpmpp_2m, ...), not the score sampler '{options.Sampler}'");
        var precision = ImageArgs.Precision(a);
        using var model = ImageArgs.Load(modelDir, options, precision, a);
        var superResolution = new SuperResolution(model);
        superResolution.CheckNoiseLevel(level);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        using var data = ImageDatasets.Load(config.Data.Name, load with { ImageSize = model.Image.Height, Channels = model.Image.Channels }, line => Console.Error.WriteLine(line));
        var (classifier, _) = ImageEvaluation.Classifier(data, Path.Combine(load.ResolveCacheDir(), "classifiers"), line => Console.Error.WriteLine(line),
            new SyncProgress<ClassifierProgress>(p => Console.Error.WriteLine($"quality classifier: epoch {p.Epoch}/{p.Epochs}, validation accuracy {p.ValidationAccuracy:P2}")));
        using var _ = classifier.Classifier;
        using var heldOut = ImageTraining.HeldOut(config, load, line => Console.Error.WriteLine(line));
        int count = (int)Math.Min(n, heldOut.Count);
        if (count < n) Console.Error.WriteLine($"note: the run held out {heldOut.Count} images; upscaling all of them");
        using var subset = heldOut.RandomSubset(count, HeldOutSubsetSeed);
        int steps = options.StepsFor(model);
        if (steps > config.Scheduler.NumTrainTimesteps)
            throw new UsageException($"--steps {steps} exceeds the model's {config.Scheduler.NumTrainTimesteps} training timesteps");
        var scheduler = options.CreateScheduler(model);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var report = ProgressDisplay.Run("upscale", (int)Math.Min(int.MaxValue, model.StepsFor(count, steps)), r =>
            Editing.SuperResolutionEvaluation.Run(superResolution, classifier.Classifier, subset.Pixels, subset.Labels, scheduler, steps, options.Seed, level,
                new SyncProgress<StepInfo>(p => r(p.Step, $"t={p.Timestep:0.##}"))));
        int low = superResolution.LowResolutionSize;
        output.WriteLine($"super-resolution x{report.Scale} ({low}x{low} to {model.Image.Width}x{model.Image.Height}) of {report.Images} held-out images of {config.Data.Name} " +
                         $"({options.Label(model)}, {precision}, seed {options.Seed}{(level > 0 ? $", conditioning noise level {level}" : "")}; {clock.Elapsed.TotalSeconds:F0} s)");
        output.WriteLine("                       model     bicubic");
        output.WriteLine($"  PSNR, dB          {report.Psnr,9:F2}   {report.BicubicPsnr,9:F2}   (against the originals; pixels in [0, 1])");
        output.WriteLine($"  label agreement   {report.Accuracy,9:P2}   {report.BicubicAccuracy,9:P2}   (the classifier gives the original's label; originals {report.OriginalAccuracy:P2})");
        output.WriteLine($"  consistency, dB   {report.Consistency,9:F2}   {report.BicubicConsistency,9:F2}   (PSNR of the output shrunk again against the low-resolution input)");
        return Cli.Ok;
    }

    /// <summary>FCD and the other sample scores of a cascade (<see cref="Cascade"/>), as for one model.</summary>
    static int EvalCascade(Args a, TextWriter output)
    {
        foreach (var name in new[] { "inpaint", "img2img", "projections", "jump-length", "resample" })
            if (a.Get(name) is not null) throw new UsageException($"--{name} does not apply with --cascade");
        if (a.Has("nll") || a.Has("superres")) throw new UsageException($"--{(a.Has("nll") ? "nll" : "superres")} does not apply with --cascade");
        NllSettings.RefuseWithoutNll(a);
        int n = a.Int("n", 10_000, 2, 10_000_000);
        string? grid = a.Get("grid");
        if (grid is not null && !grid.EndsWith(".png", StringComparison.OrdinalIgnoreCase)) throw new UsageException($"--grid must end in .png, got '{grid}'");
        var options = SamplerSettings.From(a, SamplerSettings.DefaultImageSampler);
        var guidance = GuidanceSettings.From(a, allowClass: false);
        var precision = ImageArgs.Precision(a);
        using var cascade = LoadedCascade.Load(a, options, precision);
        var conditioning = guidance.ForEval(cascade.Base, n);
        var load = new ImageLoadOptions { CacheDir = a.Get("cache-dir"), DataDir = a.Get("data-dir") };
        var target = cascade.SuperResolutionModel;
        var report = Evaluate(target.Image, a.Get("data") ?? target.Config.Data.Name, n, options.Seed, g => cascade.Sample(options, n, g, conditioning), load, grid, output,
            conditioning is null ? null : cascade.Base.ClassNames, conditioning?.Labels);
        string label = conditioning is null ? "" : $", guidance {guidance.Scale:0.###}";
        Outputs.PrintImageScores(output, report, $"{cascade.Label(options)}, {precision}{label}");
        return Cli.Ok;
    }

    /// <summary>Samples and scores an image model (shared with <c>demo</c>).</summary>
    /// <param name="text">The prompts of a text-conditional model's samples (instead of <paramref name="conditioning"/>), with <paramref name="textLabels"/> the class each names.</param>
    /// <param name="inspect">Called with the classifier and the samples before they are released (per-prompt scores).</param>
    public static ImageEvalReport Evaluate(ImageModel model, string dataName, int n, SamplerSettings options, ImageLoadOptions load, string? grid, TextWriter output,
        Guidance.Conditioning? conditioning = null, Guidance.TextConditioning? text = null, long[]? textLabels = null,
        Action<CachedClassifier, torch.Tensor>? inspect = null, GuidedLabels? guided = null)
    {
        if (conditioning is not null && model.ClassNames.Count == 0)
            throw new UsageException("--guidance needs a class-conditional model (train --cond class)");
        if (text is not null && (textLabels is null || textLabels.Length != n))
            throw new ArgumentException("text-conditional samples need one label each", nameof(textLabels));
        var classNames = text is not null ? model.Image.ClassNames : conditioning is not null ? model.ClassNames : guided?.ClassNames;
        return Evaluate(model.Image, dataName, n, options.Seed,
            g => text is null ? options.Sample(model, n, g, conditioning) : options.SampleText(model, n, g, text), load, grid, output,
            classNames, conditioning?.Labels ?? guided?.Labels ?? textLabels, inspect, guided is null ? "model" : "classifier");
    }

    /// <summary>
    /// Scores <paramref name="n"/> images of <paramref name="image"/>'s size drawn by <paramref name="draw"/> from a generator
    /// seeded <paramref name="seed"/>; with <paramref name="labels"/> (the class each sample was asked for, among
    /// <paramref name="classNames"/>) the label accuracy too.
    /// </summary>
    static ImageEvalReport Evaluate(ImageSpec image, string dataName, int n, long seed, Func<torch.Generator, torch.Tensor> draw, ImageLoadOptions load, string? grid,
        TextWriter output, IReadOnlyList<string>? classNames, long[]? labels, Action<CachedClassifier, torch.Tensor>? inspect = null, string classesOf = "model")
    {
        using var data = ImageDatasets.Load(dataName, load with { ImageSize = image.Height, Channels = image.Channels }, line => Console.Error.WriteLine(line));
        string cacheDir = Path.Combine(load.ResolveCacheDir(), "classifiers");
        var (classifier, validationImages) = ImageEvaluation.Classifier(data, cacheDir, line => Console.Error.WriteLine(line),
            new SyncProgress<ClassifierProgress>(p => Console.Error.WriteLine($"quality classifier: epoch {p.Epoch}/{p.Epochs}, loss {p.TrainLoss:F4}, validation accuracy {p.ValidationAccuracy:P2} ({p.Elapsed.TotalSeconds:F0} s)")));
        using var _ = classifier.Classifier;
        using var generator = new torch.Generator((ulong)seed);
        if (classNames is not null && !data.ClassNames.SequenceEqual(classNames))
            throw new UsageException($"'{data.Name}' has other classes than the {classesOf} ({string.Join(", ", data.ClassNames.Take(5))}... against {string.Join(", ", classNames.Take(5))}...): the label accuracy needs the {classesOf}'s own data");
        using var samples = draw(generator);
        if (grid is not null)
        {
            using var first = samples.narrow(0, 0, Math.Min(64, n));
            ImageGrid.WritePng(grid, first);
            output.WriteLine($"wrote the first {first.shape[0]} samples to {grid}");
        }
        using var requested = labels is null ? null : torch.tensor(labels, torch.ScalarType.Int64);
        var report = ImageEvaluation.Score(classifier, validationImages, samples, data, seed, requested);
        inspect?.Invoke(classifier, samples);
        return report;
    }

    static SwdScores Score(PointModel model, SamplerSettings options, int n, int projections)
    {
        using var sampleGenerator = new torch.Generator((ulong)options.Seed);
        using var samples = options.Sample(model, n, sampleGenerator);
        return SwdScores.Measure(samples, model.Config.Data.Name, projections, options.Seed);
    }

    /// <summary>The labels classifier guidance drew the samples for, and the classifier's class names.</summary>
    public sealed record GuidedLabels(long[] Labels, IReadOnlyList<string> ClassNames);
}
