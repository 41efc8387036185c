using Diffuse.Configuration;
using Diffuse.Models;
using static TorchSharp.torch;

namespace Diffuse.Guidance;

/// <summary>A sampling plan with classifier guidance around it (<see cref="ClassifierGuidance.Over"/>): the plan's denoiser, then the classifier's gradient.</summary>
internal sealed class ClassifierGuided(ClassifierGuidance guidance, ISamplingConditioning inner) : ISamplingConditioning
{
    public void Validate(ModelConfig config, string directory, long n)
    {
        inner.Validate(config, directory, n);
        if (guidance.Labels.LongLength != n)
            throw new DiffuseException($"{n} samples need {n} labels for classifier guidance, got {guidance.Labels.LongLength}");
    }

    public Func<Tensor, Tensor, Tensor> Denoiser(Func<DenoiserInput, Tensor> denoise, ModelConfig config, SamplingBatch batch) =>
        guidance.Wrap(inner.Denoiser(denoise, config, batch), batch.Start, batch.Size);
}
