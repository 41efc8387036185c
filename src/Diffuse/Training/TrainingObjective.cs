using Diffuse.Likelihood;
using Diffuse.Pipelines;
using Diffuse.Process;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Training;

/// <summary>
/// What one training step minimises: draw t (uniformly, or importance-sampled by the recent losses), noise and
/// x_t = q(x_t | x_0), and score the model's output by the run's loss: L_simple or min-SNR on the target of its
/// prediction type (<see cref="GaussianDiffusion.PerSampleLoss"/>), or the hybrid L_simple + lambda L_vlb of a model
/// with learned_range variances (<see cref="HybridLoss"/>: the mean reaches L_vlb through a stop-gradient).
/// </summary>
/// <remarks>
/// With <see cref="TimestepSampling.LossAware"/> each sample's loss is weighted by 1 / (T p_t) and the per-sample losses
/// feed the sampler's history, as improved-diffusion's <c>TrainLoop</c> (<c>update_with_local_losses</c> with the whole
/// per-sample loss). The sampler is the run's state: <see cref="TrainCheckpoint"/> saves and restores it.
/// </remarks>
public sealed class TrainingObjective
{
    private readonly GaussianDiffusion diffusion;
    private readonly TrainingSpec spec;
    private readonly HybridLoss? hybrid;

    /// <param name="decoder">The L_0 decoder of the hybrid loss's bound: 8-bit images by default.</param>
    public TrainingObjective(GaussianDiffusion diffusion, TrainingSpec spec, DataDecoder decoder = DataDecoder.Discretized8Bit)
    {
        ArgumentNullException.ThrowIfNull(diffusion);
        ArgumentNullException.ThrowIfNull(spec);
        this.diffusion = diffusion;
        this.spec = spec;
        if (spec.Loss == LossWeighting.Hybrid)
            // improved-diffusion's training_losses takes the bound's terms with clip_denoised=False.
            hybrid = new HybridLoss(new VariationalBound(diffusion, ReverseVariance.LearnedRange, decoder), spec.VlbWeight ?? TrainingSpec.DefaultVlbWeight);
        if (spec.TimestepSampler == TimestepSampling.LossAware)
            TimestepSampler = new LossAwareTimestepSampler(diffusion.Schedule.NumTrainTimesteps);
    }

    /// <summary>The importance sampler of a loss-aware run; null for uniform timesteps.</summary>
    public LossAwareTimestepSampler? TimestepSampler { get; }

    /// <summary>
    /// The mean loss of <paramref name="model"/> on one batch <paramref name="x0"/>, with t and the noise drawn from
    /// <paramref name="generator"/> (t first, then the noise); a loss-aware sampler records the batch's losses.
    /// </summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator)
    {
        using var scope = NewDisposeScope();
        long batch = x0.shape[0];
        var draw = TimestepSampler?.Sample(batch, generator);
        var t = draw?.Timesteps ?? diffusion.SampleTimesteps(batch, generator);
        var noise = Noise.RandnLike(x0, generator);
        var output = model(diffusion.QSample(x0, t, noise), t);
        if (draw is null && hybrid is null) return diffusion.Loss(output, x0, noise, t, spec.Loss, spec.MinSnrGamma).MoveToOuterDisposeScope();
        var perSample = PerSample(output, x0, noise, t);
        if (draw is null) return perSample.mean().MoveToOuterDisposeScope();
        TimestepSampler!.Update(t, perSample);
        return (perSample * draw.Weights.to(perSample.dtype).to(perSample.device)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The unweighted loss of each sample [B] of a model output at x_t = QSample(x0, t, noise).</summary>
    public Tensor PerSample(Tensor modelOutput, Tensor x0, Tensor noise, Tensor t) =>
        hybrid is null
            ? diffusion.PerSampleLoss(modelOutput, x0, noise, t, spec.Loss, spec.MinSnrGamma)
            : hybrid.Terms(modelOutput, x0, noise, t).Loss;
}
