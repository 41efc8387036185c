using Diffuse.Configuration;
using Diffuse.Process;
using Diffuse.Schedules;
using TorchSharp;
using static TorchSharp.torch;

namespace Diffuse.Editing;

/// <summary>
/// RePaint inpainting (Lugmayr et al. 2022, arXiv:2201.09865, Algorithm 1) with any unconditional denoiser: at every
/// reverse step the known region is replaced by the input noised to that step, q(x_{t-1} | x_0), and the unknown region
/// comes from the model's DDPM step; resampling jumps noise the result back up, x_t ~ N(sqrt(1 - beta_t) x_{t-1}, beta_t I),
/// and denoise again. The known pixels of the result are the input's, exactly.
/// </summary>
/// <remarks>
/// <list type="table">
/// <item><term>grid</term><description>S steps at the training timesteps tau_i = floor(i T / S), i = 0 .. S - 1 (leading spacing),
/// with abar_i = abar(tau_i) and beta_i = 1 - abar_i / abar_{i-1} (abar_{-1} = 1), as a respaced DDPM</description></item>
/// <item><term>reverse step</term><description>the DDPM posterior q(x_{i-1} | x_i, x0_hat) with x0_hat clipped to [-1, 1]
/// and the fixed_small variance (Ho et al. 2020, Eq. 6-7); no noise on the last step</description></item>
/// <item><term>jumps</term><description>RePaint's schedule (its <c>get_schedule_jump</c>): down one step at a time; at every
/// multiple of j below S - j, back up j steps, r - 1 times per point</description></item>
/// <item><term>mask</term><description>1 where the image is regenerated, 0 where it is known</description></item>
/// </list>
/// A learned-variance model's extra channels are dropped: the mean's prediction alone drives the step.
/// </remarks>
public static class RePaint
{
    /// <summary>
    /// RePaint's time sequence over the step indices: starts at S - 1 (pure noise), ends at -1 (the clean image); each move
    /// is one step down (a reverse step, the model called at the higher index) or one step up (a forward jump).
    /// </summary>
    public static IReadOnlyList<int> Schedule(int steps, int jumpLength, int resample)
    {
        var jumps = new Dictionary<int, int>();
        for (int j = 0; j < steps - jumpLength; j += jumpLength) jumps[j] = resample - 1;
        var ts = new List<int>();
        int t = steps;
        while (t >= 1)
        {
            t--;
            ts.Add(t);
            if (jumps.TryGetValue(t, out int left) && left > 0)
            {
                jumps[t] = left - 1;
                for (int k = 0; k < jumpLength; k++) ts.Add(++t);
            }
        }
        ts.Add(-1);
        return ts;
    }

    /// <summary>Network evaluations of a run: one per reverse step.</summary>
    public static int Evaluations(RePaintOptions options)
    {
        var ts = Schedule(options.Steps, options.JumpLength, options.Resample);
        int calls = 0;
        for (int k = 1; k < ts.Count; k++) if (ts[k] < ts[k - 1]) calls++;
        return calls;
    }

    /// <summary>
    /// Fills the masked region of <paramref name="known"/> [B, C, H, W] in [-1, 1]. <paramref name="mask"/> is [B or 1, 1 or C,
    /// H, W] with 1 where the model paints; <paramref name="network"/> takes (x_t, int64 timesteps [B]) and predicts
    /// <paramref name="predictionType"/>; image k draws from a generator of its own, keyed by one draw of
    /// <paramref name="generator"/> and k (<see cref="SampleSeeds"/>), so its result does not depend on the other images.
    /// <paramref name="progress"/> hears the moves done of the schedule's total.
    /// </summary>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> network, NoiseSchedule schedule, PredictionType predictionType,
        Tensor known, Tensor mask, Generator generator, RePaintOptions options, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(known);
        using var generators = SampleSeeds.Draw(generator).Batch(0, known.shape[0]);
        return Run(network, schedule, predictionType, known, mask, generators, options, progress);
    }

    /// <summary>As <see cref="Run(Func{Tensor, Tensor, Tensor}, NoiseSchedule, PredictionType, Tensor, Tensor, Generator, RePaintOptions, IProgress{ValueTuple{int, int}}?)"/>, with the batch's generators given (one batch of a longer run: <see cref="SampleSeeds.Batch"/>).</summary>
    public static Tensor Run(Func<Tensor, Tensor, Tensor> network, NoiseSchedule schedule, PredictionType predictionType,
        Tensor known, Tensor mask, SampleGenerators generators, RePaintOptions options, IProgress<(int Done, int Total)>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(generators);
        ArgumentNullException.ThrowIfNull(schedule);
        options.Validate(schedule.NumTrainTimesteps);
        if (known.dim() != 4) throw new DiffuseException($"RePaint takes images [B, C, H, W], got shape [{string.Join(", ", known.shape)}]");
        if (mask.dim() != 4 || mask.shape[2] != known.shape[2] || mask.shape[3] != known.shape[3])
            throw new DiffuseException($"the mask [{string.Join(", ", mask.shape)}] does not match the images [{string.Join(", ", known.shape)}]");
        int steps = options.Steps, trainSteps = schedule.NumTrainTimesteps;
        var timesteps = new long[steps];
        var abar = new double[steps];
        for (int i = 0; i < steps; i++)
        {
            timesteps[i] = (long)i * trainSteps / steps;
            abar[i] = schedule.AlphaCumprod((int)timesteps[i]);
        }
        double AbarAt(int i) => i < 0 ? 1.0 : abar[i];
        double BetaAt(int i) => 1 - abar[i] / AbarAt(i - 1);
        long channels = known.shape[1];
        var ts = Schedule(steps, options.JumpLength, options.Resample);

        using var noGrad = no_grad();
        var m = mask.to_type(known.dtype).expand_as(known).contiguous();
        var x = generators.RandnLike(known);
        for (int k = 1; k < ts.Count; k++)
        {
            using var fence = FinalizerFence.Enter();
            using var scope = NewDisposeScope();
            int from = ts[k - 1], to = ts[k];
            Tensor next;
            if (to < from)
            {
                // Reverse step i -> i - 1 in the unknown region, q(x_{i-1} | x_0) in the known one.
                int i = from;
                double abarT = AbarAt(i), abarPrev = AbarAt(i - 1);
                var posterior = PosteriorCoefficients.For(abarT, abarPrev);
                var t = full(known.shape[0], timesteps[i], ScalarType.Int64);
                var output = LearnedVariance.Prediction(network(x, t), channels);
                var x0 = GaussianDiffusion.PredictedOriginal(predictionType, output, x, abarT).clamp(-1, 1);
                var mean = x0 * posterior.OfOriginal + x * posterior.OfXt;
                Tensor unknown = mean;
                if (i > 0) unknown = mean + generators.RandnLike(x) * Math.Sqrt(posterior.Variance);
                var knownPart = i > 0 ? known * Math.Sqrt(abarPrev) + generators.RandnLike(known) * Math.Sqrt(1 - abarPrev) : known;
                next = m * unknown + (1 - m) * knownPart;
            }
            else
            {
                // A jump: x_{i} ~ N(sqrt(1 - beta_i) x_{i-1}, beta_i I) from index to - 1 = from.
                double beta = BetaAt(to);
                next = x * Math.Sqrt(1 - beta) + generators.RandnLike(x) * Math.Sqrt(beta);
            }
            x.Dispose();
            x = next.MoveToOuterDisposeScope();
            NativeMemory.ReleaseFreedEvery(k, 50);
            progress?.Report((k, ts.Count - 1));
        }
        using (x)
        {
            FiniteSamples.Require(x);
            return (m * x.clamp(-1, 1) + (1 - m) * known).MoveToOuterDisposeScope();
        }
    }
}
