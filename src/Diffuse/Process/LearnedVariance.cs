using static TorchSharp.torch;

namespace Diffuse.Process;

/// <summary>
/// The output of a learned-variance network (improved DDPM, Nichol &amp; Dhariwal 2021): 2C channels for a sample of C,
/// the prediction (epsilon, x_0 or v) then the variance values v of Eq. 15. The one home of the split that samplers,
/// guidance, editing and likelihoods make.
/// </summary>
public static class LearnedVariance
{
    /// <summary>Whether <paramref name="output"/> carries variance channels for a sample of <paramref name="channels"/>.</summary>
    public static bool HasVarianceChannels(Tensor output, long channels) => output.dim() >= 2 && output.shape[1] == 2 * channels;

    /// <summary>The prediction: the first <paramref name="channels"/> channels of a 2C output, or the output itself.</summary>
    public static Tensor Prediction(Tensor output, long channels) =>
        HasVarianceChannels(output, channels) ? output.narrow(1, 0, channels) : output;

    /// <summary>The prediction and the variance values of a 2C output; a <see cref="DiffuseException"/> for any other shape.</summary>
    public static (Tensor Prediction, Tensor Variance) Split(Tensor output, long channels)
    {
        if (!HasVarianceChannels(output, channels))
            throw new DiffuseException($"learned_range needs a model output with twice the sample's {channels} channels, got {(output.dim() < 2 ? 0 : output.shape[1])}");
        return (output.narrow(1, 0, channels), output.narrow(1, channels, channels));
    }

    /// <summary>
    /// <paramref name="prediction"/> (a guided or corrected prediction of <paramref name="predictionChannels"/>) with the
    /// variance channels of <paramref name="source"/> after it, when <paramref name="source"/> has any: guidance changes
    /// the prediction, and the variance stays the model's.
    /// </summary>
    public static Tensor WithVarianceOf(Tensor prediction, Tensor source, long predictionChannels) =>
        source.shape[1] > predictionChannels
            ? cat([prediction, source.narrow(1, predictionChannels, source.shape[1] - predictionChannels)], 1)
            : prediction;
}
