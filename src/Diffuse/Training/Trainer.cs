using Diffuse.Pipelines;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// Supplies the micro-batch with 0-based index <paramref name="microBatch"/> (counted over the whole
/// run, so a resumed run asks for the same batches): <paramref name="size"/> normalised examples,
/// with any random augmentation drawn from <paramref name="generator"/>.
/// </summary>
public delegate Tensor BatchSource(long microBatch, int size, Generator generator);

/// <summary>
/// A <see cref="BatchSource"/> for a class-conditional model: the images and their labels [B] (int64 in
/// [0, NumClasses], the null label included), with any label dropout already drawn from <paramref name="generator"/>.
/// </summary>
public delegate (Tensor Images, Tensor Labels) LabelledBatchSource(long microBatch, int size, Generator generator);

/// <summary>
/// A micro-batch of a model that sees more than x_t and t (a super-resolution model's conditioning): x_0 and the
/// network as a function of (x_t, t) for this batch, any random draws of the conditioning taken from <paramref name="generator"/>.
/// </summary>
public delegate (Tensor X0, Func<Tensor, Tensor, Tensor> Model) ConditionedBatchSource(long microBatch, int size, Generator generator);

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
    private readonly nn.Module<Tensor, Tensor, Tensor> model;
    private readonly TrainingSpec spec;
    private readonly TorchSharp.Modules.Parameter[] parameters;
    private readonly TorchSharp.Modules.AdamW optimizer;

    /// <param name="sde">The forward SDE of a continuous-time score model (trained by denoising score matching); null for a discrete-time model.</param>
    public Trainer(nn.Module<Tensor, Tensor, Tensor> model, Ema ema, GaussianDiffusion diffusion, TrainingSpec spec, SdeSpec? sde = null)
    {
        spec.Validate();
        this.model = model;
        Ema = ema;
        this.spec = spec;
        parameters = model.parameters().ToArray();
        optimizer = optim.AdamW(parameters, lr: spec.LearningRate, weight_decay: spec.WeightDecay);
        Objective = new TrainingObjective(diffusion, spec, sde: sde);
    }

    /// <summary>Optimizer steps completed.</summary>
    public int Step { get; internal set; }
    public nn.Module<Tensor, Tensor, Tensor> Model => model;
    public Ema Ema { get; }
    public TrainingSpec Spec => spec;
    /// <summary>The loss and the timestep draws (with a loss-aware sampler's state).</summary>
    public TrainingObjective Objective { get; }
    internal TorchSharp.Modules.AdamW Optimizer => optimizer;

    /// <summary>
    /// One optimizer step over <see cref="TrainingSpec.GradientAccumulation"/> micro-batches; returns
    /// the mean loss. A non-finite loss throws a <see cref="DiffuseException"/> before the weights change.
    /// </summary>
    public double TrainStep(BatchSource nextBatch, Generator generator) =>
        TrainStep(micro => Objective.Loss(model.forward, nextBatch(micro, spec.MicroBatchSize, generator), generator));

    /// <summary>
    /// One optimizer step of a class-conditional model (the trainer's model must be <see cref="Models.IClassConditional"/>):
    /// the network sees each micro-batch's labels; otherwise as <see cref="TrainStep(BatchSource, Generator)"/>.
    /// </summary>
    public double TrainStep(LabelledBatchSource nextBatch, Generator generator)
    {
        var conditional = model as Models.IClassConditional;
        if (conditional?.NumClasses is null) throw new DiffuseException("labelled batches need a class-conditional network (num_classes set)");
        return TrainStep(nextBatch, generator, conditional.Forward);
    }

    /// <summary>
    /// One optimizer step of a conditional model whose batches carry a condition beside the images (class labels, or a
    /// text model's prompt tokens): <paramref name="network"/> (x_t, t, condition) is the trainer's model seen with it.
    /// </summary>
    public double TrainStep(LabelledBatchSource nextBatch, Generator generator, Func<Tensor, Tensor, Tensor, Tensor> network) =>
        TrainStep(micro =>
        {
            var (x0, condition) = nextBatch(micro, spec.MicroBatchSize, generator);
            return Objective.Loss((x, t) => network(x, t, condition), x0, generator);
        });

    /// <summary>
    /// One optimizer step where each micro-batch brings its own view of the network (a super-resolution model conditioned
    /// on the batch's low-resolution images); otherwise as <see cref="TrainStep(BatchSource, Generator)"/>.
    /// </summary>
    public double TrainStep(ConditionedBatchSource nextBatch, Generator generator) =>
        TrainStep(micro =>
        {
            var (x0, conditioned) = nextBatch(micro, spec.MicroBatchSize, generator);
            return Objective.Loss(conditioned, x0, generator);
        });

    // lossOf(micro) runs inside the micro-batch's dispose scope.
    double TrainStep(Func<long, Tensor> lossOf)
    {
        model.train();
        double lr = LearningRate.At(spec.LrSchedule, Step, spec.Steps, spec.WarmupSteps, spec.LearningRate);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
        optimizer.zero_grad();
        int accumulation = spec.GradientAccumulation;
        double lossSum = 0;
        for (int micro = 0; micro < accumulation; micro++)
        {
            using var scope = NewDisposeScope();
            var loss = lossOf((long)Step * accumulation + micro);
            double value = loss.item<float>();
            if (!double.IsFinite(value))
                throw new DiffuseException($"training stopped: the loss became {value} at step {Step + 1}; lower --lr or check the data");
            lossSum += value;
            (accumulation == 1 ? loss : loss / accumulation).backward();
        }
        nn.utils.clip_grad_norm_(parameters, spec.GradClip);
        optimizer.step();
        Ema.Update();
        Step++;
        NativeMemory.ReleaseFreedEvery(Step, 50);
        return lossSum / accumulation;
    }

    /// <summary>
    /// Trains from the current step up to <paramref name="untilStep"/> (default: all of
    /// <see cref="TrainingSpec.Steps"/>). Returns the mean loss of the last 10% of the steps run.
    /// </summary>
    public double Run(BatchSource nextBatch, Generator generator, IProgress<TrainProgress>? progress = null,
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
}
