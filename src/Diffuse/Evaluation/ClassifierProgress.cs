namespace Diffuse.Evaluation;

/// <summary>One finished epoch of <see cref="ClassifierTraining.Train"/>: its mean training loss and the validation accuracy after it.</summary>
public sealed record ClassifierProgress(int Epoch, int Epochs, double TrainLoss, double ValidationAccuracy, TimeSpan Elapsed);
