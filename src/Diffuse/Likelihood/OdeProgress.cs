namespace Diffuse.Likelihood;

/// <summary>Where a batched probability-flow solve stands: batch <see cref="Batch"/> of <see cref="Batches"/> (from 0) at time <see cref="Time"/> in [eps, 1].</summary>
public readonly record struct OdeProgress(int Batch, int Batches, double Time, int FunctionEvaluations);
