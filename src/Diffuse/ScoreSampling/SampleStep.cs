using TorchSharp;

namespace Diffuse.ScoreSampling;

/// <summary>The state after one predictor or corrector step, and its mean before the step's noise was added (the denoised output of the last step).</summary>
public sealed record SampleStep(torch.Tensor Sample, torch.Tensor Mean);
