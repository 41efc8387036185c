namespace Diffuse.Configuration;

/// <summary>What the denoiser predicts (diffusers' <c>prediction_type</c>).</summary>
public enum PredictionType
{
    /// <summary><c>epsilon</c>: the noise that was added.</summary>
    Epsilon,
    /// <summary><c>sample</c>: the clean sample x_0.</summary>
    Sample,
    /// <summary><c>v_prediction</c>: v = sqrt(abar) eps - sqrt(1 - abar) x_0 (Salimans &amp; Ho 2022).</summary>
    VPrediction,
}
