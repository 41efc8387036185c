using Diffuse.Configuration;
using TorchSharp;

namespace Diffuse.Sampling;

/// <summary>
/// A sampler's configuration plus its precomputed tables: immutable and safe to share between
/// parallel sampling runs. One run's state lives in the <see cref="SamplingRun"/> that
/// <see cref="Begin"/> returns (see DESIGN.md, "The scheduler contract").
/// </summary>
public interface IScheduler
{
    /// <summary>The registry name (<c>ddpm</c>, <c>ddim</c>, ...).</summary>
    string Name { get; }

    /// <summary>The configuration, with diffusers' key names.</summary>
    SchedulerConfig Config { get; }

    /// <summary>
    /// The <c>prediction_type</c> values this scheduler (with this config) accepts, as the diffusers scheduler it
    /// follows does; creating it with another is a one-line <see cref="DiffuseException"/>. By default all of them.
    /// </summary>
    IReadOnlyList<PredictionType> SupportedPredictionTypes => ConfigValidation.AllPredictionTypes;

    /// <summary>
    /// Whether <see cref="SamplingRun.Step"/> takes the whole output of a learned-variance model (<c>variance_type</c> learned or
    /// learned_range: 2C channels, the prediction then the variance). When false, a pipeline hands it the prediction's C
    /// channels only. By default false.
    /// </summary>
    bool TakesVarianceChannels => false;

    /// <summary>Starts one sampling run of <paramref name="numInferenceSteps"/> steps.</summary>
    SamplingRun Begin(int numInferenceSteps);

    /// <summary>
    /// x0 noised to the level of timestep <paramref name="t"/> (one timestep, or one per sample), in the
    /// parameterisation the scheduler's steps take, as diffusers' <c>add_noise</c>:
    /// <list type="bullet">
    /// <item>DDPM, DDIM: q(x_t | x_0) = sqrt(abar_t) x0 + sqrt(1 - abar_t) noise at integer training timesteps.</item>
    /// <item>The sigma-based schedulers (Euler, Heun, LMS, KDPM2 and the ancestral ones): x0 + sigma noise, and the
    /// multistep ones (DPM-Solver, UniPC): alpha_t x0 + sigma_t noise with alpha_t = 1 / sqrt(sigma^2 + 1),
    /// sigma_t = sigma alpha_t; sigma is that of the most recently begun run at the step index of t (the second
    /// match when t repeats), diffusers' semantics of "the last <c>set_timesteps</c>", so the result is exact for
    /// the timesteps of that run (Karras and exponential sigmas included). Any other t in [0, T - 1] is read on the
    /// training schedule (sigma interpolated between training sigmas), which at an integer training timestep is
    /// q(x_t | x_0) itself, written as x_t / sqrt(abar_t) for the sigma-based ones.</item>
    /// </list>
    /// The scheduler stays safe to share, but with runs of different step counts begun in parallel prefer
    /// <see cref="SamplingRun.AddNoise"/>, which reads the run's own levels.
    /// </summary>
    torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t);
}
