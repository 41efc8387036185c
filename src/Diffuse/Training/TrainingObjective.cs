using Diffuse.Configuration;
using Diffuse.Likelihood;
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
/// A continuous-time SDE model (an <see cref="SdeSpec"/>) is trained by denoising score matching instead
/// (<see cref="ScoreMatchingObjective"/>): continuous t ~ U(eps, 1), then the noise.
/// </remarks>
public sealed class TrainingObjective
{
    private readonly GaussianDiffusion diffusion;
    private readonly TrainingSpec spec;
    private readonly HybridLoss? hybrid;

    /// <param name="decoder">The L_0 decoder of the hybrid loss's bound: 8-bit images by default.</param>
    /// <param name="sde">The forward SDE of a continuous-time score model; null for a discrete-time model of <paramref name="diffusion"/>'s timesteps.</param>
    public TrainingObjective(GaussianDiffusion diffusion, TrainingSpec spec, DataDecoder decoder = DataDecoder.Discretized8Bit, SdeSpec? sde = null)
    {
        ArgumentNullException.ThrowIfNull(diffusion);
        ArgumentNullException.ThrowIfNull(spec);
        this.diffusion = diffusion;
        this.spec = spec;
        if (sde is not null)
        {
            if (spec.TimestepSampler != TimestepSampling.Uniform)
                throw new DiffuseException($"an SDE model draws continuous times; {TimestepSamplings.Name(spec.TimestepSampler)} timestep sampler does not apply");
            ScoreMatching = new ScoreMatchingObjective(sde, spec.Loss, spec.MinSnrGamma);
            return;
        }
        if (spec.Loss == LossWeighting.Likelihood) throw new DiffuseException("the likelihood loss weighting applies to continuous-time SDE models only (--sde)");
        if (spec.Loss == LossWeighting.Hybrid)
            // improved-diffusion's training_losses takes the bound's terms with clip_denoised=False.
            hybrid = new HybridLoss(new VariationalBound(diffusion, ReverseVariance.LearnedRange, decoder), spec.VlbWeight ?? TrainingSpec.DefaultVlbWeight);
        if (spec.TimestepSampler == TimestepSampling.LossAware)
            TimestepSampler = new LossAwareTimestepSampler(diffusion.Schedule.NumTrainTimesteps);
        if (spec.TimestepSampler == TimestepSampling.LogNormal)
            LogNormal = new LogNormalTimesteps(diffusion.Schedule, spec.LogSigmaMean ?? TrainingSpec.DefaultLogSigmaMean,
                spec.LogSigmaStd ?? TrainingSpec.DefaultLogSigmaStd);
    }

    /// <summary>The log-normal timestep distribution of a <see cref="TimestepSampling.LogNormal"/> run; null otherwise.</summary>
    public LogNormalTimesteps? LogNormal { get; }

    /// <summary>The importance sampler of a loss-aware run; null for uniform timesteps.</summary>
    public LossAwareTimestepSampler? TimestepSampler { get; }

    /// <summary>The score-matching loss of a continuous-time SDE model; null for a discrete-time one.</summary>
    public ScoreMatchingObjective? ScoreMatching { get; }

    /// <summary>
    /// The mean loss of <paramref name="model"/> on one batch <paramref name="x0"/>, with t and the noise drawn from
    /// <paramref name="generator"/> (t first, then the noise); a loss-aware sampler records the batch's losses.
    /// </summary>
    public Tensor Loss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator)
    {
        if (ScoreMatching is not null) return ScoreMatching.Loss(model, x0, generator);
        using var scope = NewDisposeScope();
        long batch = x0.shape[0];
        var draw = TimestepSampler?.Sample(batch, generator);
        var t = draw?.Timesteps ?? LogNormal?.Sample(batch, generator) ?? diffusion.SampleTimesteps(batch, generator);
        var noise = Noise.RandnLike(x0, generator);
        var output = model(diffusion.QSample(x0, t, noise), t);
        if (draw is null && hybrid is null) return diffusion.Loss(output, x0, noise, t, spec.Loss, spec.MinSnrGamma).MoveToOuterDisposeScope();
        var perSample = PerSample(output, x0, noise, t);
        if (draw is null) return perSample.mean().MoveToOuterDisposeScope();
        TimestepSampler!.Update(t, perSample);
        return (perSample * draw.Weights.to(perSample.dtype).to(perSample.device)).mean().MoveToOuterDisposeScope();
    }

    /// <summary>The unweighted loss of each sample [B] of a discrete-time model's output at x_t = QSample(x0, t, noise).</summary>
    public Tensor PerSample(Tensor modelOutput, Tensor x0, Tensor noise, Tensor t)
    {
        if (ScoreMatching is not null) throw new InvalidOperationException("an SDE model's loss takes continuous times; use EvaluationLoss");
        return hybrid is null
            ? diffusion.PerSampleLoss(modelOutput, x0, noise, t, spec.Loss, spec.MinSnrGamma)
            : hybrid.Terms(modelOutput, x0, noise, t).Loss;
    }

    /// <summary>
    /// The loss of each sample [B] of <paramref name="x0"/> with times drawn uniformly and then the noise, both from
    /// <paramref name="generator"/>, without importance weights or any change to a loss-aware sampler's history (validation).
    /// </summary>
    public Tensor EvaluationLoss(Func<Tensor, Tensor, Tensor> model, Tensor x0, Generator generator)
    {
        if (ScoreMatching is not null) return ScoreMatching.PerSampleLoss(model, x0, generator);
        using var scope = NewDisposeScope();
        var t = diffusion.SampleTimesteps(x0.shape[0], generator);
        var noise = Noise.RandnLike(x0, generator);
        return PerSample(model(diffusion.QSample(x0, t, noise), t), x0, noise, t).MoveToOuterDisposeScope();
    }
}
