using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// One micro-batch: the normalised examples x_0 and what the network is told beside x_t and t (class labels, prompt
/// tokens, a super-resolution model's low-resolution images; <see cref="Condition.None"/> for an unconditional model).
/// A tensor converts to an unconditional batch.
/// </summary>
public sealed record TrainingBatch(Tensor X0, Condition Condition)
{
    public static implicit operator TrainingBatch(Tensor x0) => new(x0, Condition.None);
}

/// <summary>
/// Supplies the micro-batch with 0-based index <paramref name="microBatch"/> (counted over the whole run, so a resumed run
/// asks for the same batches): <paramref name="size"/> examples, with any random augmentation or conditioning draws
/// (label dropout, captions, noise-conditioning augmentation) taken from <paramref name="generator"/>.
/// </summary>
public delegate TrainingBatch TrainingBatchSource(long microBatch, int size, Generator generator);

/// <summary>
/// Trains a denoiser by the denoising objective of Ho et al. 2020 (Algorithm 1): draw x_0 from the
/// data, t (uniformly or loss-aware), noise, and regress the model's output on the target of its prediction type
/// (or the hybrid loss of learned variances, or denoising score matching of an SDE model; see <see cref="TrainingObjective"/>),
/// with AdamW, warmup then cosine or constant learning rate, gradient accumulation, gradient
/// clipping and an EMA of the weights. The trainer owns its optimizer and step count, so that
/// <see cref="TrainCheckpoint"/> can save and restore a run exactly.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly DenoiserNetwork model;
    private readonly TrainingSpec spec;
    private readonly TorchSharp.Modules.Parameter[] parameters;
    private readonly TorchSharp.Modules.AdamW optimizer;
    // bf16 training: the working copy that runs the forward and backward passes, and its parameters (aligned with parameters).
    private readonly DenoiserNetwork? working;
    private readonly TorchSharp.Modules.Parameter[] workingParameters = [];

    /// <param name="sde">The forward SDE of a continuous-time score model (trained by denoising score matching); null for a discrete-time model.</param>
    /// <param name="workingCopy">
    /// With <see cref="TrainingPrecision.Bf16"/> (and only then): a second network of the same architecture as
    /// <paramref name="model"/>, which the trainer converts to bfloat16 and uses for the forward and backward passes
    /// (see <see cref="TrainingPrecision.Bf16"/>); <paramref name="model"/> keeps the float32 master weights. The caller disposes it.
    /// </param>
    public Trainer(DenoiserNetwork model, Ema ema, GaussianDiffusion diffusion, TrainingSpec spec, SdeSpec? sde = null,
        DenoiserNetwork? workingCopy = null)
    {
        spec.Validate();
        this.model = model;
        Ema = ema;
        this.spec = spec;
        parameters = model.parameters().ToArray();
        if (spec.Precision == TrainingPrecision.Bf16)
        {
            working = workingCopy ?? throw new ArgumentException("bf16 training needs a working copy of the network", nameof(workingCopy));
            working.to(ScalarType.BFloat16);
            workingParameters = working.parameters().ToArray();
            if (workingParameters.Length != parameters.Length || parameters.Zip(workingParameters).Any(p => !p.First.shape.SequenceEqual(p.Second.shape)))
                throw new ArgumentException("the working copy must have the network's architecture", nameof(workingCopy));
        }
        else if (workingCopy is not null)
        {
            throw new ArgumentException("a working copy is used by bf16 training only", nameof(workingCopy));
        }
        optimizer = optim.AdamW(parameters, lr: spec.LearningRate, weight_decay: spec.WeightDecay);
        Objective = new TrainingObjective(diffusion, spec, sde: sde);
    }

    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; internal set; }
    public DenoiserNetwork Model => model;
    public Ema Ema { get; }
    public TrainingSpec Spec => spec;
    /// <summary>The loss and the timestep draws (with a loss-aware sampler's state).</summary>
    public TrainingObjective Objective { get; }
    internal TorchSharp.Modules.AdamW Optimizer => optimizer;

    /// <summary>
    /// One optimizer step over <see cref="TrainingSpec.GradientAccumulation"/> micro-batches of <paramref name="nextBatch"/>;
    /// returns the mean loss. The network sees each micro-batch's condition. A non-finite loss throws a
    /// <see cref="DiffuseException"/> before the weights change.
    /// </summary>
    public double TrainStep(TrainingBatchSource nextBatch, Generator generator) =>
        TrainStep(micro =>
        {
            var batch = nextBatch(micro, spec.MicroBatchSize, generator);
            return Objective.Loss(ForwardOf(working ?? model, batch.Condition), batch.X0, generator);
        });

    /// <summary>
    /// <paramref name="network"/> as a function of (x_t, t) with <paramref name="condition"/>; in bf16 training (the working
    /// copy) x_t is fed in bfloat16 and the output read back in float32.
    /// </summary>
    Func<Tensor, Tensor, Tensor> ForwardOf(DenoiserNetwork network, Condition condition) =>
        working is null ? (x, t) => network.Forward(new DenoiserInput(x, t, condition))
            : (x, t) => network.Forward(new DenoiserInput(x.to(ScalarType.BFloat16), t, condition)).to(ScalarType.Float32);

    // lossOf(micro) runs inside the micro-batch's dispose scope.
    double TrainStep(Func<long, Tensor> lossOf)
    {
        using var fence = FinalizerFence.Enter();
        model.train();
        RefreshWorkingCopy();
        double lr = LearningRate.At(spec.LrSchedule, Step, spec.Steps, spec.WarmupSteps, spec.LearningRate);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        // TorchSharp's optimizer hands out a handle per gradient it touches: the step's scopes collect them.
        using (NewDisposeScope()) optimizer.zero_grad();
        int accumulation = spec.GradientAccumulation;
        double lossSum = 0;
        for (int micro = 0; micro < accumulation; micro++)
        {
            using var scope = NewDisposeScope();
            var loss = lossOf((long)Step * accumulation + micro);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new DiffuseException($"training stopped: the loss became {value} at step {Step + 1}; {DivergenceCauses(spec)}");
            lossSum += value;
            (accumulation == 1 ? loss : loss / accumulation).backward();
            MoveWorkingGradients();
        }
        using (NewDisposeScope())
        {
            nn.utils.clip_grad_norm_(parameters, spec.GradClip);
            optimizer.step();
        }
        Ema.Update();
        Step++;
        NativeMemory.ReleaseFreedEvery(Step, 50);
        return lossSum / accumulation;
    }

    /// <summary>bf16: the working copy takes the master weights (rounded to bfloat16) before each step.</summary>
    void RefreshWorkingCopy()
    {
        if (working is null) return;
        working.train();
        using var scope = NewDisposeScope(); // copy_ returns a handle of its own
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++) workingParameters[i].copy_(parameters[i]);
    }

    /// <summary>bf16: adds the working copy's gradients, in float32, onto the master weights' and clears them.</summary>
    void MoveWorkingGradients()
    {
        if (working is null) return;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var g = workingParameters[i].grad;
            if (g is null) continue;
            var master = parameters[i].grad;
            if (master is null) parameters[i].grad = g.to(ScalarType.Float32);
            else master.add_(g);
        }
        working.zero_grad();
    }

    /// <summary>
    /// Trains from the current step up to <paramref name="untilStep"/> (default: all of
    /// <see cref="TrainingSpec.Steps"/>). Returns the mean loss of the last 10% of the steps run.
    /// </summary>
    public double Run(TrainingBatchSource nextBatch, Generator generator, IProgress<TrainProgress>? progress = null,
        CancellationToken cancel = default, int? untilStep = null)
    {
        int end = untilStep ?? spec.Steps;
        double smoothed = double.NaN, tailSum = 0;
        int tailStart = end - Math.Max(1, (end - Step) / 10), tailCount = 0;
        while (Step < end)
        {
            cancel.ThrowIfCancellationRequested();
            double loss = TrainStep(nextBatch, generator);
            smoothed = double.IsNaN(smoothed) ? loss : 0.98 * smoothed + 0.02 * loss;
            if (Step > tailStart) { tailSum += loss; tailCount++; }
            progress?.Report(new TrainProgress(Step, spec.Steps, smoothed, optimizer.ParamGroups.First().LearningRate));
        }
        model.eval();
        return tailSum / Math.Max(1, tailCount);
    }

    public void Dispose() => optimizer.Dispose();

    /// <summary>The usual causes of a non-finite loss, with the run's own values: what to lower first, then what else to check.</summary>
    internal static string DivergenceCauses(TrainingSpec spec)
    {
        string rates = spec.WeightDecay > 0
            ? $"the learning rate ({spec.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}) or the weight decay ({spec.WeightDecay.ToString(System.Globalization.CultureInfo.InvariantCulture)}) is too large for this network (lower --lr or --weight-decay)"
            : $"the learning rate ({spec.LearningRate.ToString(System.Globalization.CultureInfo.InvariantCulture)}) is too large for this network (lower --lr)";
        return $"usually {rates}; else a noise process of extreme scale (--sigma-max, --beta-max) or extreme data values";
    }
}
