using Diffuse.Configuration;
using Diffuse.Guidance;
using Diffuse.Models;
using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// The sampling plan of a super-resolution model (<see cref="SuperResolution"/>): each sample's low-resolution image,
/// upsampled bicubically and, with noise-conditioning augmentation, noised to level <paramref name="noiseLevel"/> from the
/// sample's own generator (before its starting noise), which the network is then told.
/// </summary>
/// <param name="low">The low-resolution images [N, C, h, h] in [-1, 1], checked by <see cref="SuperResolution.CheckInput"/>.</param>
/// <param name="standIn">Stands in for the model's network (tests); null: the model's.</param>
internal sealed class LowResolutionConditioning(Tensor low, int noiseLevel, Func<DenoiserInput, Tensor>? standIn = null) : ISamplingConditioning
{
    public void Validate(ModelConfig config, string directory, long n)
    {
        if (config.SuperRes is null)
            throw new DiffuseException($"'{directory}' is not a super-resolution model (one trained with 'diffuse train --task superres')");
        if (low.shape[0] != n) throw new DiffuseException($"{n} samples need {n} low-resolution images, got {low.shape[0]}");
    }

    public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch)
    {
        var spec = config.SuperRes!;
        var condition = LowResolution.Upsample(low.narrow(0, batch.Start, batch.Size), spec.Scale);
        Tensor? levels = null;
        if (spec.CondNoiseMax is not null)
        {
            levels = full([batch.Size], (long)noiseLevel, ScalarType.Int64);
            if (noiseLevel > 0)
            {
                var diffusion = new GaussianDiffusion(Schedules.NoiseSchedule.FromConfig(config.Scheduler), config.Scheduler.PredictionType);
                condition = LowResolution.Augment(condition, levels, diffusion, batch.Generators);
            }
        }
        var given = new Condition { LowResolution = condition, NoiseLevels = levels };
        var network = standIn ?? denoise;
        return (x, t) => network(new DenoiserInput(x, t, given));
    }
}
