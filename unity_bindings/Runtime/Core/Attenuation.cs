namespace FoleyKit
{
    /// <summary>Distance attenuation the Unity components apply as a voice's gain (the engine does no spatialization).</summary>
    public static class Attenuation
    {
        /// <summary>1 within minDistance, minDistance/d beyond, 0 past maxDistance.</summary>
        public static float InverseDistance(float distance, float minDistance, float maxDistance)
        {
            if (distance >= maxDistance) return 0f;
            if (distance <= minDistance || minDistance <= 0f) return 1f;
            return minDistance / distance;
        }
    }
}
