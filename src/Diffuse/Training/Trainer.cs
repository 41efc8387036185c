using Diffuse.Pipelines;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// Trains a denoiser by the denoising objective of Ho et al. 2020 (Algorithm 1): draw x_0 from the
/// data, t uniformly, noise, and regress the model's output on the target of its prediction type,
/// with AdamW, warmup-cosine learning rate, gradient clipping and an EMA of the weights.
/// </summary>
public sealed class Trainer
{
    private readonly nn.Module<Tensor, Tensor, Tensor> model;
    private readonly Ema ema;
    private readonly GaussianDiffusion diffusion;
    private readonly TrainingSpec spec;

    public Trainer(nn.Module<Tensor, Tensor, Tensor> model, Ema ema, GaussianDiffusion diffusion, TrainingSpec spec)
    {
        spec.Validate();
        this.model = model;
        this.ema = ema;
        this.diffusion = diffusion;
        this.spec = spec;
    }

    /// <summary>
    /// Runs <see cref="TrainingSpec.Steps"/> steps. <paramref name="nextBatch"/> returns a batch of
    /// normalised data from the generator it is given. A non-finite loss stops training with a
    /// <see cref="DiffuseException"/>. Returns the mean loss of the last 10% of the steps.
    /// </summary>
    public double Run(Func<long, Generator, Tensor> nextBatch, Generator generator, IProgress<TrainProgress>? progress = null, CancellationToken cancel = default)
    {
        model.train();
        using var optimizer = optim.AdamW(model.parameters(), lr: spec.LearningRate, weight_decay: 0.0);
        var parameters = model.parameters().ToArray();
        double smoothed = double.NaN, tailSum = 0;
        int tailStart = spec.Steps - Math.Max(1, spec.Steps / 10), tailCount = 0;
        for (int step = 0; step < spec.Steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            double lr = LearningRate.WarmupCosine(step, spec.Steps, spec.WarmupSteps, spec.LearningRate);
            foreach (var group in optimizer.ParamGroups) group.LearningRate = lr;
            double lossValue;
            using (NewDisposeScope())
            {
                var x0 = nextBatch(spec.BatchSize, generator);
                var t = diffusion.SampleTimesteps(x0.shape[0], generator);
                var noise = Noise.RandnLike(x0, generator);
                var xt = diffusion.QSample(x0, t, noise);
                var loss = diffusion.Loss(model.forward(xt, t), x0, noise, t, spec.Loss, spec.MinSnrGamma);
                lossValue = loss.item<float>();
                if (!double.IsFinite(lossValue))
                    throw new DiffuseException($"training stopped: the loss became {lossValue} at step {step + 1}; lower --lr or check the data (nothing was written)");
                optimizer.zero_grad();
                loss.backward();
                nn.utils.clip_grad_norm_(parameters, spec.GradClip);
                optimizer.step();
            }
            ema.Update();
            NativeMemory.ReleaseFreedEvery(step + 1, 50);
            smoothed = double.IsNaN(smoothed) ? lossValue : 0.98 * smoothed + 0.02 * lossValue;
            if (step >= tailStart) { tailSum += lossValue; tailCount++; }
            progress?.Report(new TrainProgress(step + 1, spec.Steps, smoothed, lr));
        }
        model.eval();
        return tailSum / Math.Max(1, tailCount);
    }
}
