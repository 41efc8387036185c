using System.CommandLine;
using System.CommandLine.Parsing;
using Diffuse.Configuration;
using Diffuse.IO;

namespace Diffuse.Cli;

/// <summary>The options of <c>train</c> that points and images share: the run, the optimizer, the noise schedule and the loss.</summary>
public sealed class TrainOptions
{
    /// <summary>The 2-D dataset 'train' uses without --data.</summary>
    public const string DefaultData = "moons";

    public Option<string?> Data { get; } = TrainingOptions.Data(
        $"points: moons | swiss_roll | 8gaussians | checkerboard | circles (default {DefaultData}); images: mnist | fashion-mnist | a folder of MNIST " +
        "IDX files | a folder of PNG/JPEG images (one sub-folder per class gives labels; a captions.tsv gives captions)");
    public Option<string?> Out { get; } = Common.Out("model folder to write (refused if it holds a model, unless --force or --resume)", helpName: "DIR");
    public Option<int?> Steps { get; } = Common.TrainingSteps("optimizer steps (default 4000 for points, 3000 for images)");
    public Option<int?> BatchSize { get; } = TrainingOptions.BatchSize("examples per step (default 512 for points, 64 for images)");
    public Option<double?> Lr { get; } = TrainingOptions.LearningRate("peak AdamW learning rate (default 0.002 points, 0.001 images)");
    public Option<LrSchedule> LrSchedule { get; } = Opt.Parsed("--lr-schedule", "the learning rate after the warmup",
        name => Json.ParseEnum<LrSchedule>(name, "learning-rate schedule"), () => new TrainingSpec().LrSchedule, "cosine|constant");
    public Option<int?> Warmup { get; } = Opt.OptionalInt("--warmup", "learning-rate warmup steps (default 100 points, 200 images)", 0);
    public Option<double> WeightDecay { get; } = Opt.Double("--weight-decay", "AdamW decoupled weight decay", new TrainingSpec().WeightDecay, Bounds.Within(0, TrainingSpec.MaxWeightDecay));
    public Option<int> GradAccum { get; } = Opt.Int("--grad-accum", "split each batch into K micro-batches (same result, less memory)", new TrainingSpec().GradientAccumulation, 1);
    public Option<long> Seed { get; } = Common.Seed("seed of everything random");
    public Option<BetaSchedule> Schedule { get; } = TrainingOptions.Schedule("the noise schedule's betas");
    public Option<int> Timesteps { get; } = TrainingOptions.Timesteps("diffusion training timesteps");
    public Option<PredictionType> Prediction { get; } = Opt.Parsed("--prediction", "what the network predicts",
        name => Json.ParseEnum<PredictionType>(name, "prediction type"), () => new SchedulerConfig().PredictionType, "epsilon|sample|v_prediction");
    public Option<LossWeighting?> Loss { get; } = Opt.Parsed<LossWeighting?>("--loss",
        "simple | min_snr | hybrid | likelihood (default simple; hybrid with --variance learned_range, likelihood (lambda = g(t)^2) with --sde)",
        name => Json.ParseEnum<LossWeighting>(name, "loss"), helpName: "NAME");
    public Option<TimestepSampling> TimestepSampler { get; } = Opt.Parsed("--timesteps-sampler",
        "uniform; loss-aware: importance-sampled by each timestep's recent losses; lognormal: ln sigma(t) ~ N(--log-sigma-mean, --log-sigma-std^2), the noise levels EDM trains on (Karras et al. 2022)", name => name switch
        {
            "uniform" => TimestepSampling.Uniform,
            "loss-aware" or "loss_aware" => TimestepSampling.LossAware,
            "lognormal" or "log-normal" or "log_normal" => TimestepSampling.LogNormal,
            _ => throw new UsageException($"--timesteps-sampler must be uniform, loss-aware or lognormal, got '{name}'"),
        }, () => TimestepSampling.Uniform, "uniform|loss-aware|lognormal");
    public Option<double?> LogSigmaMean { get; } = Opt.OptionalDouble("--log-sigma-mean",
        $"--timesteps-sampler lognormal: the mean of ln sigma (P_mean; default {TrainingSpec.DefaultLogSigmaMean})", Bounds.Within(-20, 20));
    public Option<double?> LogSigmaStd { get; } = Opt.OptionalDouble("--log-sigma-std",
        $"--timesteps-sampler lognormal: the standard deviation of ln sigma (P_std; default {TrainingSpec.DefaultLogSigmaStd})", new Bounds(0, MinExclusive: true, Max: 20));
    public Option<double?> EmaDecay { get; } = Opt.OptionalDouble("--ema-decay", "EMA decay of the weights (default 0.995 points, 0.999 images)",
        new Bounds(0, Max: 1, MaxExclusive: true));
    public Option<bool> Force { get; } = Common.Force("overwrite a model already in --out");
    public Option<bool> Resume { get; } = Opt.Flag("--resume", "continue the run in --out from its last checkpoint (exactly; --steps may grow)");
    public Option<int?> StopAt { get; } = TrainingOptions.StopAt();
    public Option<int> Hidden { get; } = Opt.Int("--hidden", "points: MLP width", new MlpConfig().HiddenDim, 1, Limits.Width);
    public Option<int> Blocks { get; } = Opt.Int("--blocks", "points: residual MLP blocks", new MlpConfig().Blocks, 0, Limits.Depth);

    /// <summary>The options that only shape a new run (everything --resume refuses), less the image and SDE ones.</summary>
    public Option[] NewRunOnly => [Data, BatchSize, Lr, LrSchedule, Warmup, WeightDecay, GradAccum, Seed, Schedule, Timesteps, Prediction, Loss, TimestepSampler, LogSigmaMean, LogSigmaStd, EmaDecay, Force, Hidden, Blocks];

    public void AddTo(Command command) => command.AddOptions(
        [Data, Out, Steps, BatchSize, Lr, LrSchedule, Warmup, WeightDecay, GradAccum, Seed, Schedule, Timesteps, Prediction, Loss, TimestepSampler, LogSigmaMean, LogSigmaStd, EmaDecay, Force, Resume, StopAt, Hidden, Blocks]);

    public SchedulerConfig Scheduler(SymbolResult r, bool clip, VarianceType variance) => new()
    {
        NumTrainTimesteps = r.GetValue(Timesteps), BetaSchedule = r.GetValue(Schedule), PredictionType = r.GetValue(Prediction), VarianceType = variance, ClipSample = clip,
    };

    public TrainingSpec Training(SymbolResult r, TrainingSpec defaults, LossWeighting loss, double? vlbWeight) => defaults with
    {
        Steps = r.GetValue(Steps) ?? defaults.Steps,
        BatchSize = r.GetValue(BatchSize) ?? defaults.BatchSize,
        GradientAccumulation = r.GetValue(GradAccum),
        LearningRate = r.GetValue(Lr) ?? defaults.LearningRate,
        LrSchedule = r.GetValue(LrSchedule),
        WarmupSteps = r.GetValue(Warmup) ?? defaults.WarmupSteps,
        WeightDecay = r.GetValue(WeightDecay),
        Seed = r.GetValue(Seed),
        Loss = loss,
        VlbWeight = vlbWeight,
        TimestepSampler = r.GetValue(TimestepSampler),
        // A log-normal run writes its P_mean and P_std into config.json, defaults included.
        LogSigmaMean = r.GetValue(LogSigmaMean) ?? (r.GetValue(TimestepSampler) == TimestepSampling.LogNormal ? TrainingSpec.DefaultLogSigmaMean : null),
        LogSigmaStd = r.GetValue(LogSigmaStd) ?? (r.GetValue(TimestepSampler) == TimestepSampling.LogNormal ? TrainingSpec.DefaultLogSigmaStd : null),
        EmaDecay = r.GetValue(EmaDecay) ?? defaults.EmaDecay,
    };

    /// <summary>
    /// The loss: hybrid with learned variances (and only then), likelihood with an SDE (and only then); a learned variance gets no
    /// gradient from L_simple, and min-SNR weights have no meaning for L_vlb.
    /// </summary>
    public LossWeighting LossOf(SymbolResult r, bool learned, bool sde)
    {
        var loss = r.GetValue(Loss) ?? (learned ? LossWeighting.Hybrid : LossWeighting.Simple);
        if (learned && loss != LossWeighting.Hybrid)
            throw new UsageException($"--variance learned_range trains with the hybrid loss; --loss {Json.Name(loss)} cannot train the variance");
        if (loss == LossWeighting.Likelihood && !sde)
            throw new UsageException("--loss likelihood weights the score-matching loss of SDE models; add --sde vp, subvp or ve");
        if (loss == LossWeighting.Hybrid && sde) throw new UsageException("--loss hybrid trains the learned variances of discrete-time models, not an --sde model");
        if (!learned && loss == LossWeighting.Hybrid) throw new UsageException("--loss hybrid trains learned variances; add --variance learned_range (images)");
        if (sde && r.Given(Prediction) && r.GetValue(Prediction) != PredictionType.Epsilon)
            throw new UsageException($"an --sde model's network predicts the noise; --prediction {Json.Name(r.GetValue(Prediction))} does not apply");
        if (sde && r.GetValue(TimestepSampler) != TimestepSampling.Uniform)
            throw new UsageException($"an --sde model draws continuous times; --timesteps-sampler {TimestepSamplings.Name(r.GetValue(TimestepSampler))} does not apply");
        if ((r.Given(LogSigmaMean) || r.Given(LogSigmaStd)) && r.GetValue(TimestepSampler) != TimestepSampling.LogNormal)
            throw new UsageException("--log-sigma-mean and --log-sigma-std shape the lognormal timestep sampler; add --timesteps-sampler lognormal");
        return loss;
    }
}
