using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using static TorchSharp.torch;

namespace Diffuse.Likelihood;

/// <summary>
/// The likelihood of data under a trained discrete-time model, two ways, in batches: the discrete variational bound
/// (<see cref="VariationalBound"/> over every timestep, the model's own variances; Ho et al. 2020, arXiv:2006.11239, Eq. 5)
/// and the probability-flow ODE of its continuous-time view (<see cref="ContinuousTimeModel"/>, <see cref="ProbabilityFlow"/>;
/// Song et al. 2021, arXiv:2011.13456, Sec. 4.3), each averaged over the samples with its standard error.
/// </summary>
public static class ModelLikelihood
{
    /// <summary>The bound's reverse variance for a model's <c>variance_type</c>; raw <c>learned</c> variances are refused.</summary>
    public static ReverseVariance VarianceOf(VarianceType type) => type switch
    {
        VarianceType.FixedSmall or VarianceType.FixedSmallLog => ReverseVariance.FixedSmall,
        VarianceType.FixedLarge or VarianceType.FixedLargeLog => ReverseVariance.FixedLarge,
        VarianceType.LearnedRange => ReverseVariance.LearnedRange,
        _ => throw new DiffuseException($"the variational bound takes fixed_small, fixed_large or learned_range variances, not {type}"),
    };

    /// <summary>
    /// The bound of <paramref name="x0"/> [N, ...] (for <see cref="DataDecoder.Discretized8Bit"/>: 8-bit images scaled to [-1, 1],
    /// with the predicted x_0 clipped to [-1, 1] as improved-diffusion's <c>calc_bpd_loop</c>), <paramref name="batchSize"/> at a
    /// time, x_t drawn from <paramref name="generator"/>. <paramref name="network"/> takes (x_t, int64 timesteps [B]);
    /// <paramref name="progress"/> hears the terms done over all batches (T per batch).
    /// </summary>
    public static ElboEstimate Elbo(Func<Tensor, Tensor, Tensor> network, SchedulerConfig config, Tensor x0, DataDecoder decoder,
        int batchSize, Generator generator, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(config);
        if (batchSize < 1) throw new DiffuseException($"the batch size must be at least 1, got {batchSize}");
        var diffusion = new GaussianDiffusion(NoiseSchedule.FromConfig(config), config.PredictionType);
        var bound = new VariationalBound(diffusion, VarianceOf(config.VarianceType), decoder, clipDenoised: decoder == DataDecoder.Discretized8Bit);
        int terms = config.NumTrainTimesteps;
        using var scope = NewDisposeScope();
        var total = new List<Tensor>();
        var prior = new List<Tensor>();
        var kl = new List<Tensor>();
        var decoderNll = new List<Tensor>();
        long n = x0.shape[0];
        for (long start = 0, batch = 0; start < n; start += batchSize, batch++)
        {
            int done = (int)(batch * terms);
            var batchProgress = progress is null ? null : new SyncProgress<int>(p => progress.Report(done + p));
            var result = bound.Evaluate(network, x0.narrow(0, start, Math.Min(batchSize, n - start)), generator, batchProgress);
            total.Add(result.Total);
            prior.Add(result.Prior);
            kl.Add(result.Terms.narrow(1, 1, terms - 1).sum(1));
            decoderNll.Add(result.Terms[.., 0]);
        }
        return new ElboEstimate(MeanWithError.Of(cat(total)), MeanWithError.Of(cat(prior)), MeanWithError.Of(cat(kl)),
            MeanWithError.Of(cat(decoderNll)), (int)n);
    }

    /// <summary>
    /// Bits/dim of 8-bit images <paramref name="pixels"/> [N, C, H, W] (integers in [0, 255]) by the probability-flow ODE with
    /// uniform dequantization (<see cref="ProbabilityFlow.ImageBitsPerDim"/>), <paramref name="batchSize"/> images per solve,
    /// the dequantization noise and Hutchinson probes drawn from <paramref name="generator"/>. <paramref name="network"/> takes
    /// (x_t, float32 timesteps [B]).
    /// </summary>
    public static OdeEstimate ImageOde(Func<Tensor, Tensor, Tensor> network, SchedulerConfig config, Tensor pixels, ProbabilityFlowOptions options,
        int batchSize, Generator generator, IProgress<OdeProgress>? progress = null)
    {
        var model = new ContinuousTimeModel(network, config);
        return ImageOde(model.Sde, model.Score, pixels, options, batchSize, generator, progress);
    }

    /// <summary>As <see cref="ImageOde(Func{Tensor, Tensor, Tensor}, SchedulerConfig, Tensor, ProbabilityFlowOptions, int, Generator, IProgress{OdeProgress}?)"/> for any SDE and score (a continuous-time SDE model's).</summary>
    public static OdeEstimate ImageOde(Sde sde, ScoreFunction score, Tensor pixels, ProbabilityFlowOptions options,
        int batchSize, Generator generator, IProgress<OdeProgress>? progress = null) =>
        Ode(sde, score, pixels, options, batchSize, generator, progress,
            (sde, score, batch) => ProbabilityFlow.ImageBitsPerDim(sde, score, batch, generator, options).BitsPerDim);

    /// <summary>
    /// Nats/dim of continuous data <paramref name="x"/> [N, ...] in the network's own coordinates by the probability-flow ODE
    /// (<see cref="ProbabilityFlow.NegativeLogLikelihood"/>), plus <paramref name="natsPerDimOffset"/> (the log-Jacobian per
    /// dimension of a map back to data coordinates, log scale for x_data = scale x + mean).
    /// </summary>
    public static OdeEstimate ContinuousOde(Func<Tensor, Tensor, Tensor> network, SchedulerConfig config, Tensor x, ProbabilityFlowOptions options,
        int batchSize, Generator generator, double natsPerDimOffset = 0, IProgress<OdeProgress>? progress = null)
    {
        var model = new ContinuousTimeModel(network, config);
        return ContinuousOde(model.Sde, model.Score, x, options, batchSize, generator, natsPerDimOffset, progress);
    }

    /// <summary>As <see cref="ContinuousOde(Func{Tensor, Tensor, Tensor}, SchedulerConfig, Tensor, ProbabilityFlowOptions, int, Generator, double, IProgress{OdeProgress}?)"/> for any SDE and score (a continuous-time SDE model's).</summary>
    public static OdeEstimate ContinuousOde(Sde sde, ScoreFunction score, Tensor x, ProbabilityFlowOptions options,
        int batchSize, Generator generator, double natsPerDimOffset = 0, IProgress<OdeProgress>? progress = null) =>
        Ode(sde, score, x, options, batchSize, generator, progress,
            (sde, score, batch) => ProbabilityFlow.NegativeLogLikelihood(sde, score, batch, generator, options).NatsPerDim + natsPerDimOffset);

    private static OdeEstimate Ode(Sde sde, ScoreFunction score, Tensor data, ProbabilityFlowOptions options,
        int batchSize, Generator generator, IProgress<OdeProgress>? progress, Func<Sde, ScoreFunction, Tensor, Tensor> perSample)
    {
        ArgumentNullException.ThrowIfNull(generator);
        ArgumentNullException.ThrowIfNull(sde);
        ArgumentNullException.ThrowIfNull(score);
        if (batchSize < 1) throw new DiffuseException($"the batch size must be at least 1, got {batchSize}");
        options.Validate();
        long n = data.shape[0];
        int batches = (int)((n + batchSize - 1) / batchSize);
        var values = new List<Tensor>();
        long evaluations = 0;
        try
        {
            for (int batch = 0; batch < batches; batch++)
            {
                using var scope = NewDisposeScope();
                int calls = 0;
                ScoreFunction counted = (x, t) =>
                {
                    calls++;
                    progress?.Report(new OdeProgress(batch, batches, t, calls));
                    return score(x, t);
                };
                long start = (long)batch * batchSize;
                var result = perSample(sde, counted, data.narrow(0, start, Math.Min(batchSize, n - start)));
                values.Add(result.detach().MoveToOuterDisposeScope());
                evaluations += calls;
            }
            using var all = cat(values);
            return new OdeEstimate(MeanWithError.Of(all), (double)evaluations / batches, batches, (int)n);
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }
}
