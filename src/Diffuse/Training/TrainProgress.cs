namespace Diffuse.Training;

/// <summary>One report of training progress: the step just finished (1-based), of how many, and the smoothed loss.</summary>
public sealed record TrainProgress(int Step, int TotalSteps, double Loss, double LearningRate);
