namespace Diffuse.Likelihood;

/// <summary>
/// The probability-flow likelihood of <see cref="Count"/> samples (bits/dim for images, nats/dim for points) with its
/// standard error, and the solver's function evaluations averaged over its <see cref="Solves"/> solves (one per batch).
/// </summary>
public sealed record OdeEstimate(MeanWithError Value, double MeanFunctionEvaluations, int Solves, int Count);
