using Diffuse.Configuration;
using Diffuse.Models;
using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>
/// What a sampling run gives the network beside x_t, one plan per conditioning kind: nothing (<c>null</c> plans sample
/// unconditionally), class labels with classifier-free guidance (<see cref="Conditioning"/>), prompts with classifier-free
/// guidance (<see cref="TextConditioning"/>), a super-resolution model's low-resolution images; classifier guidance wraps any
/// of them (<see cref="ClassifierGuidance.Over"/>). A model's one sampling path validates the plan once, then asks it for each
/// batch's denoiser; the sampling loop and the schedulers never know which plan runs. A new kind is a new implementation.
/// </summary>
public interface ISamplingConditioning
{
    /// <summary>Throws a one-line <see cref="DiffuseException"/> unless the plan fits the model of <paramref name="config"/> (in <paramref name="directory"/>) and <paramref name="n"/> samples.</summary>
    void Validate(ModelConfig config, string directory, long n);

    /// <summary>
    /// The denoiser of <paramref name="batch"/>: (x_t, t) to the network's float32 output (a learned variance's channels
    /// included), built on the model's <paramref name="denoise"/>. Called inside the batch's dispose scope, before the
    /// batch's starting noise is drawn; any draw it makes comes from the batch's generators.
    /// </summary>
    Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch);
}

/// <summary>One batch of a sampling run: samples [<see cref="Start"/>, <see cref="Start"/> + <see cref="Size"/>), of shape <see cref="Shape"/>, with their own generators.</summary>
/// <param name="Shape">[size, C, ...]: the batch's x_t.</param>
public sealed record SamplingBatch(long Start, long[] Shape, SampleGenerators Generators)
{
    public long Size => Shape[0];

    /// <summary>The channels of x_t (dimension 1): the prediction's channels, before any learned variance.</summary>
    public int Channels => (int)Shape[1];
}

/// <summary>The plan of no conditioning: the network's null input for every slot.</summary>
internal sealed class Unconditional : ISamplingConditioning
{
    public static Unconditional Instance { get; } = new();

    public void Validate(ModelConfig config, string directory, long n) => SamplingPlans.RefuseSuperResolution(config, directory);

    public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch) =>
        (x, t) => denoise(new DenoiserInput(x, t));
}

/// <summary>Checks the sampling plans share.</summary>
internal static class SamplingPlans
{
    /// <summary>A plan that gives no low-resolution image cannot sample a super-resolution model.</summary>
    public static void RefuseSuperResolution(ModelConfig config, string directory)
    {
        if (config.SuperRes is not null)
            throw new DiffuseException($"'{directory}' is a super-resolution model: it upscales low-resolution images ('diffuse upscale', or the second stage of 'sample --cascade'), it does not sample from noise alone");
    }

    /// <summary>Checks a guidance scale W and rescale phi.</summary>
    public static void CheckGuidance(double scale, double rescale)
    {
        if (!(scale >= 0 && scale <= Conditioning.MaxGuidanceScale))
            throw DiffuseException.For("guidance_scale", $"guidance_scale must lie in [0, {Conditioning.MaxGuidanceScale}], got {scale}");
        if (!(rescale >= 0 && rescale <= 1))
            throw DiffuseException.For("guidance_rescale", $"guidance_rescale must be in [0, 1], got {rescale}");
    }
}
