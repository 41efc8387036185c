using TorchSharp;

namespace Diffuse.Likelihood;

/// <summary>Samples from the probability-flow ODE and the number of score evaluations they took.</summary>
public sealed record OdeSample(torch.Tensor Sample, int FunctionEvaluations);
