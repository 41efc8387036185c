using Diffuse.Configuration;
using Diffuse.Likelihood;
using Diffuse.Process;
using static TorchSharp.torch;

namespace Diffuse.Pipelines;

/// <summary>
/// A model in the score-SDE view: its forward <see cref="Process.Sde"/> (with the discretisation a sampler runs) and the
/// score its network defines, which the <see cref="ScoreSampling.ScoreSamplers"/> and likelihoods take.
/// </summary>
public sealed record ScoreModel(Sde Sde, ScoreFunction Score)
{
    /// <summary>
    /// The score-SDE view of a model of <paramref name="config"/> whose network is <paramref name="network"/> (model-space
    /// input, float32 output), with an N = <paramref name="steps"/> step discretisation: a continuous-time SDE model is
    /// its own SDE (<see cref="SdeSpec"/>), a discrete-time model the VP SDE of its schedule (<see cref="ContinuousTimeModel"/>).
    /// </summary>
    public static ScoreModel For(ModelConfig config, Func<Tensor, Tensor, Tensor> network, int steps)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Sde is { } spec)
        {
            var sde = spec.CreateSde(steps);
            return new ScoreModel(sde, spec.Score(network, sde));
        }
        var model = new ContinuousTimeModel(network, config.Scheduler, steps);
        return new ScoreModel(model.Sde, model.Score);
    }
}
