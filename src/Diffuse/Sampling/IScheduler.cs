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
    IReadOnlyList<Process.PredictionType> SupportedPredictionTypes => ConfigValidation.AllPredictionTypes;

    /// <summary>Starts one sampling run of <paramref name="numInferenceSteps"/> steps.</summary>
    SamplingRun Begin(int numInferenceSteps);

    /// <summary>q(x_t | x_0): <c>sqrt(abar_t) x0 + sqrt(1 - abar_t) noise</c>, t of shape [B] (int64).</summary>
    torch.Tensor AddNoise(torch.Tensor x0, torch.Tensor noise, torch.Tensor t);
}
